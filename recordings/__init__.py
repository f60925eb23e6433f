"""Media for the 1300 line: prompt audio, call-recording conversion and transcription.

- `recordings.convert`: any common audio file -> Asterisk's 8 kHz formats, and a compact archive
  format for call recordings.
- `recordings.prompts`: the IVR prompt catalog's public face and the operator CLI
  (`python -m recordings.prompts`); the catalog and its start-up check live in
  `recordings.catalog`, espeak-ng synthesis and recording replacement in `recordings.synth`.
- `recordings.numbers`: which number fragments to play to speak a number in a language.
- `recordings.transcribe`: offline Vosk transcription of callback messages, off the call path.
"""
