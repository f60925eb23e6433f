"""The controller process: wiring (the one place collaborators are built) and the run command."""
