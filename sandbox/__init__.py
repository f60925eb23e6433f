"""Asterisk for development and tests: a system install or Debian sid's in a cached chroot,
and instances of it running the project's rendered configuration side by side."""

from sandbox.instance import AsteriskError, AsteriskInstance, Credentials, InstanceConfig
from sandbox.ports import InstancePorts, PortLease, lease_ports
from sandbox.provision import AsteriskRuntime, SandboxError, ensure_asterisk, provision_sandbox

__all__ = [
    "AsteriskError",
    "AsteriskInstance",
    "AsteriskRuntime",
    "Credentials",
    "InstanceConfig",
    "InstancePorts",
    "PortLease",
    "SandboxError",
    "ensure_asterisk",
    "lease_ports",
    "provision_sandbox",
]
