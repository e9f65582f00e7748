"""Exceptions raised by azimuth.

Every error the engine reports is an :class:`AzimuthError`. The subclasses also derive from
the built-in exception a Python programmer would reach for, so ``except KeyError`` or
``except ValueError`` work as expected:

========================  =====================================================
``InvalidInput``          ``ValueError`` — bad vectors, ids, payloads, filters, arguments
``AlreadyExists``         ``InvalidInput`` — a collection of that name exists
``NotFound``              ``KeyError`` — no such collection (or listed point)
``Locked``                another process has the database directory open
``StorageError``          ``OSError`` — the operating system refused an I/O operation
``Corruption``            ``StorageError`` — files on disk are damaged (a checksum,
                          magic or structure mismatch); the message names the file
========================  =====================================================

Arguments of the wrong Python type (``k="ten"``) raise ``TypeError`` as usual.
"""

from __future__ import annotations

__all__ = [
    "AzimuthError",
    "InvalidInput",
    "AlreadyExists",
    "NotFound",
    "Locked",
    "StorageError",
    "Corruption",
]


class AzimuthError(Exception):
    """Base class of every error the azimuth engine reports."""


class InvalidInput(AzimuthError, ValueError):
    """The caller passed something the engine cannot accept."""


class AlreadyExists(InvalidInput):
    """A collection with that name already exists."""


class NotFound(AzimuthError, KeyError):
    """A named collection, or a point listed by id, does not exist."""

    # KeyError's str() is the repr of its argument; keep the message readable.
    __str__ = Exception.__str__


class Locked(AzimuthError):
    """Another process has the database directory open; close it there first."""


class StorageError(AzimuthError, OSError):
    """The operating system refused an I/O operation on the database files."""


class Corruption(StorageError):
    """Bytes on disk are not what the engine wrote; the message names the file."""
