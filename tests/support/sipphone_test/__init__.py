"""Test tools for sipphone: fake phones, linphonec, the service under test.

Python 3 standard library only, so that Debian's /usr/bin/python3 runs
them without pip.
"""

from .ports import free_port
from .fakephone import FakePhone
from .linphone import Linphone
from . import audio

__all__ = ["free_port", "FakePhone", "Linphone", "audio"]
