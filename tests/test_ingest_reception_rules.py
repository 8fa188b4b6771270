"""The documented rules of the contracts table: object-text classification and buyer-name matching
(docs/reception-sources.md). Each case is a real spelling seen in the ANAC files or a known trap."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from insiena.ingest.reception import (buyer_type, classify_object, match_buyer, normalise,
                                      territory_lookup)

FIX = Path(__file__).parent / "fixtures" / "reception"


@pytest.fixture(scope="module")
def lookup():
    return territory_lookup(pd.read_csv(FIX / "territories_sample.csv", dtype=str))


# (object text, buyer type, expected category, expected rule, minors)
CLASSIFICATION = [
    ("PROGETTO SPRAR - ACCOGLIENZA INTEGRATA", "comune", "SAI", "sprar", False),
    ("S.P.R.A.R. CATEGORIA ORDINARI 2017", "comune", "SAI", "sprar", False),
    ("AFFIDAMENTO SERVIZIO ACCOGLIENZA PROGETTO SIPROIMI - 2", "comune", "SAI", "siproimi", False),
    ("AFFIDAMENTO DEL SERVIZIO SAI PER GLI ANNI 2023/2025", "comune", "SAI", "sai", False),
    ("SISTEMA DI ACCOGLIENZA E INTEGRAZIONE - PROG. 774", "comune", "SAI", "sai_full_name",
     False),
    ("PROGETTO SAI - FAMI MSNA - ACCOGLIENZA ED INTEGRAZIONE", "comune", "SAI", "sai", True),
    ("ACCOGLIENZA MIGRANTI CAS SAN FRANCESCO MAGGIO AGOSTO 2019", "prefettura", "CAS", "cas", False),
    ("CONVENZIONE SERVIZIO ACCOGLIENZA STRAORDINARIA MIGRANTI", "prefettura", "CAS",
     "accoglienza_straordinaria", False),
    ("CENTRO DI ACCOGLIENZA STRAORDINARIO PROFUGHI UCRAINI", "comune", "CAS",
     "accoglienza_straordinaria", False),
    ("GESTIONE C.A.S. PER MINORI STRANIERI NON ACCOMPAGNATI", "prefettura", "CAS", "cas", True),
    ("ACCOGLIENZA DI MINORE MSNA CODICE 6856 IN COMUNITA' ALLOGGIO", "comune", "MSNA", "msna", True),
    ("ACCOGLIENZA MINORI STRANIERI NIN ACCOMPAGNATI", "prefettura", "MSNA", "minori_stranieri", True),
    ("SERVIZIO DI ACCOGLIENZA AI CITTADINI STRANIERI MINORI NON ACCOMPAGNATI", "comune", "MSNA",
     "minori_non_accompagnati", True),
    ("ACCOGLIENZA MSNA EXTRA SAI ACCOGLIENZA MSNA EXTRA SAI", "comune", "MSNA", "msna", True),
    ("ACCOGLIENZA MIGRANTI", "prefettura", "CAS", "prefettura_reception", False),
    ("ASSISTENZA MIGRANTI", "prefettura", "CAS", "prefettura_reception", False),
    ("ACCOGLIENZA MIGRANTI", "comune", "other", "none", False),
    ("AFFIDAMENTO DEI SERVIZI DI GESTIONE DEL CENTRO ACCOGLIENZA RICHIEDENTI ASILO (CARA) DI BARI",
     "prefettura", "other", "none", False),
    ("SERVIZIO DI RACCOLTA E TRASPORTO DEI RIFIUTI HOT SPOT MIGRANTI", "prefettura", "other", "none", False),
    ("NOLEGGIO PULLMAN CON CONDUCENTE PER TRASPORTO MIGRANTI", "prefettura", "other", "none", False),
    ("CASA FAMIGLIA PER ANZIANI", "comune", "other", "none", False),      # CASA is not CAS
    ("IL SISTEMA DI ACCOGLIENZA E INTEGRAZIONE (SAI) &#232; COSTITUITO", "comune", "SAI", "sai", False),
]


@pytest.mark.parametrize("text,buyer,category,rule,minors", CLASSIFICATION)
def test_object_classification(text, buyer, category, rule, minors):
    assert classify_object(text, buyer=buyer) == (category, rule, minors)


def test_priority_sai_over_cas_over_msna():
    assert classify_object("CAS E SPRAR PER MSNA")[0] == "SAI"
    assert classify_object("CAS PER MSNA")[0] == "CAS"


def test_normalise_accents_apostrophes_entities():
    assert normalise("SOCIETA' DELLA SALUTE") == normalise("Società della Salute") == "SOCIETA DELLA SALUTE"
    assert normalise("Colle di Val d’Elsa") == "COLLE DI VAL D ELSA"
    assert normalise("Forlì-Cesena") == "FORLI CESENA"
    assert normalise("PROG. &#232;") == "PROG E"


# (buyer name, cost centre, expected province, expected rule)
BUYERS = [
    ("PREFETTURA DI SIENA", "PREFETTURA DI SIENA", "052", "prefettura_name"),
    ("PREFETTURA - UTG DI SIENA", None, "052", "prefettura_name"),
    ("PREFETTURA - UFFICIO TERRITORIALE DEL GOVERNO DI RAVENNA", "AREA II", "039", "prefettura_name"),
    ("PREFETTURA DI REGGIO CALABRIA", None, "080", "prefettura_name"),
    ("PREFETTURA DI REGGIO EMILIA", None, "035", "prefettura_name"),
    ("PREFETTURA DI MASSA CARRARA UFFICIO TERRITORIALE DEL GOVERNO", None, "045", "prefettura_name"),
    ("PREFETTURA DI BOLZANO", None, "021", "prefettura_name"),
    ("COMMISSARIATO DEL GOVERNO PER LA PROVINCIA DI BOLZANO/BOZEN", None, "021", "provincia_name"),
    ("PREFETTURA DEL VERBANO - CUSIO - OSSOLA -", None, "103", "prefettura_name"),
    ("MINISTERO INTERNO-PREFETTURA", "PREFETTURA DI FORLI'-CESENA", "040", "cost_centre_prefettura"),
    ("UFFICIO TERRITORIALE DEL GOVERNO", "PREFETTURA U.T.G. L'AQUILA", "066", "cost_centre_prefettura"),
    ("UFFICIO TERRITORIALE DEL GOVERNO", "SERVIZIO ATTIVITA' CONTRATTUALI", None, None),
    ("MINISTERO INTERNO DIPARTIMENTO DELLA P.S.", "UTG - PREFETTURA DI VARESE", "012", "cost_centre_prefettura"),
    ("COMUNE DI POGGIBONSI", "SERVIZI SOCIALI", "052", "comune_name"),
    ("COMUNE DI COLLE DI VAL D'ELSA", None, "052", "comune_name"),
    ("ROMA CAPITALE", "DIPARTIMENTO V", "058", "alias"),
    ("COMUNE DI MASSA MARITTIMA", None, "053", "comune_name"),        # not Massa-Carrara
    ("COMUNE DI BOLZANO VICENTINO", None, "024", "comune_name"),      # not Bolzano
    ("COMUNE DI CASTRO", None, None, None),                          # homonyms in BG and LE
    ("COMUNE DI CASTRO (LECCE)", None, "075", "comune_name_and_province"),
    ("SOCIETA' DELLA SALUTE SENESE", None, "052", "alias"),
    ("SOCIETA' DELLA SALUTE DELLA ZONA ALTA VAL D'ELSA", None, "052", "alias"),
    ("SOCIETA' DELLA SALUTE AREA PRATESE", "U.O. MINORI SDS PRATO", "100", "alias"),
    ("SOCIETA' DELLA SALUTE EMPOLESE VALDARNO VALDELSA", None, None, None),  # two provinces
    ("UNIONE TRA I COMUNI DI CARMIANO COPERTINO LEVERANO", "UNION 3", "075", "comuni_listed"),
    ("UNIONE DEI COMUNI MONTEDORO", None, None, None),               # one name only: not enough
    ("UNIONE DEI COMUNI DEL NORD SALENTO", None, None, None),
    ("CENTRALE UNICA DI COMMITTENZA IRPINIA", "COMUNE DI POGGIBONSI", "052", "cost_centre_comune"),
    ("AZIENDA SERVIZI SOCIALI DI BOLZANO", None, "021", "province_name_in_text"),
    ("REGIONE TOSCANA", "SETTORE IMMIGRAZIONE", None, None),          # a region is not a province
    ("REGIONE AUTONOMA DELLA VALLE D AOSTA SERVIZI PREFETTURA", None, "007", "alias"),
    ("BEZIRKSGEMEINSCHAFT PUSTERTAL", None, "021", "alias"),
    ("CITTALIA FONDAZIONE RICERCHE DELL'ANCI", None, None, None),
]


@pytest.mark.parametrize("name,cost_centre,province,rule", BUYERS)
def test_buyer_matching(name, cost_centre, province, rule, lookup):
    assert match_buyer(name, cost_centre, lookup) == (province, rule)


@pytest.mark.parametrize("name,expected", [
    ("PREFETTURA DI SIENA", "prefettura"), ("PREFETTURA - UTG DI SIENA", "prefettura"),
    ("UFFICIO TERRITORIALE DEL GOVERNO", "prefettura"), ("COMUNE DI POGGIBONSI", "comune"),
    ("SOCIETA' DELLA SALUTE SENESE", "societa_salute"), ("UNIONE DEI COMUNI AMIATA VAL D'ORCIA", "unione_comuni"),
    ("AMMINISTRAZIONE PROVINCIALE DI SIENA", "provincia"), ("REGIONE TOSCANA", "regione"),
    ("MINISTERO DELL'INTERNO - DIPARTIMENTO PER LE LIBERTA' CIVILI", "ministero"), ("ESTAR", "altro"),
])
def test_buyer_types(name, expected):
    assert buyer_type(name) == expected
