"""Names of countries in Thai and English, from the phone-number metadata the server already has.

The names come from phonenumbers' locale table alone (`phonenumbers/geodata/locale.py`), read
once and cut down to Thai and English. Importing `phonenumbers.geocoder` instead would load the
place name of every number prefix in the world with it: about 100 MB that stayed in the
controller's memory for good, for the two names per country a report prints.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Final

import phonenumbers

from reports.document import Label

UNKNOWN_COUNTRY = Label("ไม่ทราบประเทศ", "Unknown country")
LANGS: Final = ("th", "en")

CountryNames = Mapping[str, Mapping[str, str]]  # region ("MM") -> lang ("th") -> name


@cache
def country_label(code: str) -> Label:
    """"MM" -> เมียนมา / Myanmar; the code itself when the metadata has no name for it."""
    if not code:
        return UNKNOWN_COUNTRY
    example = phonenumbers.example_number(code.upper())
    if example is None:
        return Label(code, code)
    th = _country_name(example, "th") or code
    en = _country_name(example, "en") or code
    return Label(th, en)


def _country_name(number: phonenumbers.PhoneNumber, lang: str) -> str:
    """What `phonenumbers.geocoder.country_name_for_number` answers: the name of the one region
    the number belongs to, "" when its country code is shared and the number fits several."""
    if number.country_code is None:
        return ""
    regions = phonenumbers.region_codes_for_country_code(number.country_code)
    if len(regions) != 1:
        valid = [r for r in regions if phonenumbers.is_valid_number_for_region(number, r)]
        regions = tuple(valid) if len(valid) == 1 else ()
    return country_names().get(regions[0], {}).get(lang, "") if regions else ""


@cache
def country_names() -> CountryNames:
    """Every region's name in Thai and English (an entry "*xx" in the table means: the name in
    language xx, as the geocoder reads it)."""
    table: Mapping[str, Mapping[str, str]] = _locale_module().LOCALE_DATA
    return {region: {lang: _name(names, lang) for lang in LANGS} for region, names in table.items()}


def _name(names: Mapping[str, str], lang: str) -> str:
    name = names.get(lang, "")
    return names.get(name[1:], "") if name.startswith("*") else name


def _locale_module() -> ModuleType:
    """`phonenumbers.geodata.locale` run on its own, without its package's `__init__` (which
    loads all the geocoding data); not registered in sys.modules, so it is freed once read."""
    spec = importlib.util.find_spec("phonenumbers")
    folders = list(spec.submodule_search_locations or ()) if spec else []
    path = Path(folders[0]) / "geodata" / "locale.py" if folders else None
    if path is None or not path.is_file():  # another packaging of phonenumbers: the plain way
        from phonenumbers.geodata import locale

        return locale
    locale_spec = importlib.util.spec_from_file_location("phonenumbers.geodata.locale", path)
    if locale_spec is None or locale_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(locale_spec)
    locale_spec.loader.exec_module(module)
    return module
