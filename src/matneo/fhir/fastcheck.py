"""The FHIR reader's fast path: a Bundle read with ``json`` and vouched for element by element.

:func:`fast_entries` returns the Bundle's entries as plain JSON-shaped resources only when it is
*certain* that the fhir.resources R4B ``Bundle`` model would accept the file and give the same
values; otherwise it raises :class:`NotVouched` and the caller reads the file the slow, exact
way (``Bundle.model_validate_json``). It is deliberately narrower than FHIR R4:

* it knows Bundle (``resourceType``, ``id``, ``type``, ``entry``), Bundle.entry (``fullUrl``,
  ``resource``, ``request.method``/``url``), the resources MatNeo maps — Patient, Encounter,
  Observation, Procedure, Condition, Organization, Location — with the elements MatNeo reads
  or writes, and the data types those use (Identifier, Reference, Coding, CodeableConcept,
  Quantity, Extension with ``valueDateTime``/``valueCodeableConcept``/``valueInteger``);
* each known element must have its FHIR type and the pattern fhir.resources checks (``id``
  ``[A-Za-z0-9\\-.]{1,64}``; ``code`` without leading, trailing or double spaces; a
  non-blank ``string``; a ``uri`` of printable ASCII; an ``integer`` in 32 bits; a finite
  ``decimal``; a real calendar ``date`` or full ``dateTime`` with its offset); required elements
  (Bundle.type, Encounter.status and class, Observation.status and code, Procedure.status and
  subject, Condition.subject, Extension.url, Encounter.location.location, request.method and
  url) must be there; at most one ``value[x]``, ``multipleBirth[x]`` or ``deceased[x]``; no
  empty list or object, no null;
* Bundle and entry elements it does not know (``meta``, ``timestamp``, ``search``…) are
  validated by the ``Bundle`` model (less the entries) and the ``BundleEntry`` model (less the
  resource);
* a resource that also has elements it does not know (``meta``, ``text``, ``name``, another
  resource type…) is validated on its own by its fhir.resources model (JSON mode, as inside the
  Bundle); the walk reads only known elements, which were checked here.

Keep this module in step with the walk (``inbound.py``): an element the walk reads must be in
:data:`RESOURCES` with its type, or the walk would see it as raw JSON on the fast path.

Values come out as the library gives them: ``decimal`` as :class:`~decimal.Decimal` (``str`` of
a JSON float first), ``date`` as :class:`datetime.date`, ``dateTime`` as an aware
:class:`datetime.datetime` (or a ``date`` when only a date is written).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic_core import from_json

Checker = Callable[[Any, "_Resource"], Any]

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_CODE = re.compile(r"[!-~]+(?: [!-~]+)*")
_URI = re.compile(r"[!-~]+")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
# fhir_core's date and dateTime patterns, narrowed to a full date and a full time with offset
_DATE = re.compile(r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])")
_TIME = re.compile(r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+\-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))")
_INT32 = 2**31
_EXACT_FLOAT_INT = 2**53
_MEMO = 50_000  # objects remembered per checker


class NotVouched(Exception):
    """The fast path cannot vouch for this Bundle; the exact (slow) path must read it."""


class _Resource:
    """What the check of one resource found besides the elements it knows."""

    __slots__ = ("unknown",)

    def __init__(self) -> None:
        self.unknown = False


def _string(value: Any, _: _Resource) -> str:
    if type(value) is str and value.strip():
        return value
    raise NotVouched


def _matching(pattern: re.Pattern[str]) -> Callable[[Any, _Resource], str]:
    """A check that a value is a string ``pattern`` matches in full; the values found good are
    remembered (up to :data:`_MEMO`), as a Bundle repeats the same codes, systems and ids."""
    ok: set[str] = set()

    def check(value: Any, _: _Resource) -> str:
        if type(value) is str and (value in ok or pattern.fullmatch(value)):
            if len(ok) < _MEMO:
                ok.add(value)
            return value
        raise NotVouched

    return check


_code = _matching(_CODE)
_uri = _matching(_URI)
_id = _matching(_ID)


def _boolean(value: Any, _: _Resource) -> bool:
    if type(value) is bool:
        return value
    raise NotVouched


def _integer(value: Any, _: _Resource) -> int:
    if type(value) is int and -_INT32 <= value < _INT32:
        return value
    raise NotVouched


def _decimal(value: Any, _: _Resource) -> Decimal:
    if type(value) is int and -_EXACT_FLOAT_INT < value < _EXACT_FLOAT_INT:
        return Decimal(value)
    if type(value) is float and math.isfinite(value) and _DECIMAL.fullmatch(str(value)):
        return Decimal(str(value))
    raise NotVouched


def _date(value: Any, _: _Resource) -> dt.date:
    if type(value) is str and _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise NotVouched


def _date_time(value: Any, _: _Resource) -> dt.date:
    if type(value) is str and _DATE.match(value):
        if len(value) == 10:
            return _date(value, _)
        if _TIME.fullmatch(value, 10):
            try:
                return dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
            except ValueError:
                pass
    raise NotVouched


def _list(item: Checker) -> Checker:
    def check(value: Any, resource: _Resource) -> list[Any]:
        if type(value) is list and value:
            return [item(v, resource) for v in value]
        raise NotVouched

    return check


def _object(
    spec: dict[str, Checker],
    required: tuple[str, ...] = (),
    one_of: tuple[tuple[str, ...], ...] = (),
    memo: bool = False,
) -> Checker:
    """A checker of an object with these elements. ``memo`` (only for types whose every known
    element is a string, so that no two distinct accepted objects compare equal) remembers the
    objects already vouched for: codings, identifiers and references repeat all through a Bundle."""
    seen: dict[tuple[tuple[str, Any], ...], bool] = {}  # object → whether it has unknown elements

    def check(value: Any, resource: _Resource) -> dict[str, Any]:
        if type(value) is not dict or not value:
            raise NotVouched
        key = None
        if memo:
            key = tuple(value.items())
            try:
                hit = seen.get(key)
            except TypeError:  # holds a list or an object: not remembered
                key = hit = None
            if hit is not None:
                if hit:
                    resource.unknown = True
                return value
        unknown = False
        for name, element in value.items():
            checker = spec.get(name)
            if checker is None:
                unknown = True
                continue
            result = checker(element, resource)
            if result is not element:
                value[name] = result  # a decimal or a date, as the library holds it (same keys)
        for name in required:
            if name not in value:
                raise NotVouched
        for choice in one_of:
            if sum(name in value for name in choice) > 1:
                raise NotVouched
        if unknown:
            resource.unknown = True
        if key is not None:
            if len(seen) > _MEMO:
                seen.clear()
            seen[key] = unknown
        return value

    return check


_CODING = _object({"system": _uri, "code": _code, "display": _string, "version": _string}, memo=True)
_ANY_CONCEPT = _object({"coding": _list(_CODING), "text": _string})
_IDENTIFIER = _object({"system": _uri, "value": _string}, memo=True)
_ANY_REFERENCE = _object({"reference": _string, "type": _uri, "identifier": _IDENTIFIER, "display": _string})


def _concept(value: Any, resource: _Resource) -> dict[str, Any]:
    """CodeableConcept; the usual one, a single coding and nothing else, checked at the speed of
    a look-up: the same codes recur all through a Bundle."""
    if type(value) is dict and len(value) == 1:
        coding = value.get("coding")
        if type(coding) is list and len(coding) == 1 and type(coding[0]) is dict:
            _CODING(coding[0], resource)
            return value
    return _ANY_CONCEPT(value, resource)


def _reference(value: Any, resource: _Resource) -> dict[str, Any]:
    """Reference; the usual one, ``{"reference": text}``, checked inline."""
    if type(value) is dict and len(value) == 1:
        text = value.get("reference")
        if type(text) is str and text.strip():
            return value
    return _ANY_REFERENCE(value, resource)


_CONCEPT = _concept
_REFERENCE = _reference
_QUANTITY = _object({"value": _decimal, "unit": _string, "system": _uri, "code": _code})
_VALUES = ("valueDateTime", "valueCodeableConcept", "valueInteger")
_EXTENSION = _object(
    {"url": _uri, "valueDateTime": _date_time, "valueCodeableConcept": _CONCEPT, "valueInteger": _integer},
    required=("url",),
    one_of=(_VALUES,),
)
_EXTENSIONS = _list(_EXTENSION)
_OBSERVATION_VALUES = ("valueQuantity", "valueInteger", "valueBoolean", "valueCodeableConcept")
_COMMON: dict[str, Checker] = {"resourceType": _code, "id": _id}

RESOURCES: dict[str, Checker] = {
    "Patient": _object(
        _COMMON
        | {
            "identifier": _list(_IDENTIFIER),
            "gender": _code,
            "birthDate": _date,
            "_birthDate": _object({"extension": _EXTENSIONS}),
            "multipleBirthBoolean": _boolean,
            "multipleBirthInteger": _integer,
            "deceasedBoolean": _boolean,
            "deceasedDateTime": _date_time,
            "extension": _EXTENSIONS,
        },
        one_of=(("multipleBirthBoolean", "multipleBirthInteger"), ("deceasedBoolean", "deceasedDateTime")),
    ),
    "Encounter": _object(
        _COMMON
        | {
            "status": _code,
            "class": _CODING,
            "subject": _REFERENCE,
            "serviceProvider": _REFERENCE,
            "location": _list(_object({"location": _REFERENCE}, required=("location",))),
        },
        required=("status", "class"),
    ),
    "Observation": _object(
        _COMMON
        | {
            "status": _code,
            "code": _CONCEPT,
            "subject": _REFERENCE,
            "encounter": _REFERENCE,
            "valueQuantity": _QUANTITY,
            "valueInteger": _integer,
            "valueBoolean": _boolean,
            "valueCodeableConcept": _CONCEPT,
        },
        required=("status", "code"),
        one_of=(_OBSERVATION_VALUES,),
    ),
    "Procedure": _object(
        _COMMON | {"status": _code, "code": _CONCEPT, "subject": _REFERENCE, "encounter": _REFERENCE},
        required=("status", "subject"),
    ),
    "Condition": _object(
        _COMMON
        | {
            "code": _CONCEPT,
            "subject": _REFERENCE,
            "encounter": _REFERENCE,
            "verificationStatus": _CONCEPT,
            "clinicalStatus": _CONCEPT,
        },
        required=("subject",),
    ),
    "Organization": _object(_COMMON | {"identifier": _list(_IDENTIFIER), "name": _string}),
    "Location": _object(_COMMON | {"identifier": _list(_IDENTIFIER), "name": _string}),
}
_REQUEST = _object({"method": _code, "url": _uri}, required=("method", "url"))
_ENTRY_KEYS = {"fullUrl", "resource", "request"}
_BUNDLE_KEYS = {"resourceType", "id", "type", "entry"}


def _as_json(value: Any) -> Any:
    """A value this module converted, back as JSON: a decimal as the number it was read from,
    a date or dateTime in ISO form (it was read from a valid form, and this one is as valid)."""
    if isinstance(value, Decimal):
        return int(value) if value.as_tuple().exponent == 0 else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _model_accepts(resource: dict[str, Any], model: str | None = None) -> bool:
    """Whether the fhir.resources R4B model of this resource's type (or the named ``Bundle`` /
    ``BundleEntry`` model) accepts it, in JSON mode as inside the Bundle."""
    from fhir.resources.R4B import bundle, get_fhir_model_class
    from pydantic import ValidationError

    try:
        klass = getattr(bundle, model) if model else get_fhir_model_class(resource["resourceType"])
        klass.model_validate_json(json.dumps(resource, default=_as_json))
    except (ValidationError, ValueError, KeyError, TypeError):
        return False
    return True


def fast_entries(data: bytes | str) -> tuple[str, list[tuple[int, dict[str, Any], str | None]]]:
    """(Bundle.type; per entry with a resource: its index, the resource, its fullUrl), or
    :class:`NotVouched` when only the library's full validation can say what the file is."""
    try:  # the JSON parser of pydantic itself (jiter), as the library's own reading would parse
        bundle = from_json(data, allow_inf_nan=False)
    except (ValueError, RecursionError):
        raise NotVouched from None
    if type(bundle) is not dict or bundle.get("resourceType") != "Bundle":
        raise NotVouched
    shell = {k: v for k, v in bundle.items() if k != "entry"}
    if not bundle.keys() <= _BUNDLE_KEYS and not _model_accepts(shell, "Bundle"):
        raise NotVouched  # meta, timestamp…: the Bundle less its entries is judged by its model
    top = _Resource()
    kind = _code(bundle.get("type"), top)
    if "id" in bundle:
        _id(bundle["id"], top)
    entries: list[tuple[int, dict[str, Any], str | None]] = []
    raw_entries = bundle.get("entry", ())
    if "entry" in bundle and (type(raw_entries) is not list or not raw_entries):
        raise NotVouched
    for index, raw in enumerate(raw_entries):
        if type(raw) is not dict or not raw:
            raise NotVouched
        if not raw.keys() <= _ENTRY_KEYS and not _model_accepts(
            {k: v for k, v in raw.items() if k != "resource"}, "BundleEntry"
        ):
            raise NotVouched  # search, response…: the entry less its resource is judged by its model
        if "fullUrl" in raw:
            _uri(raw["fullUrl"], top)
        if "request" in raw:
            _REQUEST(raw["request"], top)
            if top.unknown:
                raise NotVouched
        if "resource" not in raw:
            continue
        value = raw["resource"]
        kind_of = value.get("resourceType") if type(value) is dict else None
        if type(kind_of) is not str:
            raise NotVouched
        checker = RESOURCES.get(kind_of)
        seen = _Resource()
        if checker is None:
            if not _model_accepts(value):
                raise NotVouched
            resource = {"resourceType": value["resourceType"]}
            if "id" in value:
                resource["id"] = _id(value["id"], seen)
        else:
            resource = checker(value, seen)
            if seen.unknown and not _model_accepts(value):
                raise NotVouched
        entries.append((index, resource, raw.get("fullUrl")))
    return kind, entries
