"""The tables behind the synthetic demo data: who repressed whom, where, how, and in which words.

Every weight here is a deliberate, approximate choice so that demo maps and statistics look like the real problem
without reproducing any real record. Sources and reasons:

Origin states (`ORIGINS[..].weight`, in per mille of incidents). Rounded from the rankings Freedom House has
published for its 2014-2024 data on physical, direct transnational repression (1,219 incidents by 48 governments):
China alone about 22 percent (272 incidents); Türkiye, Tajikistan, Russia and Egypt next; Turkmenistan, Cambodia,
Uzbekistan, Rwanda, Belarus, Iran and Saudi Arabia in the following group; Uganda, Cambodia, Russia, Iran and China
the top perpetrators of 2024. tnrwatch also codes digital, legal and proxy tactics that Freedom House's physical
count leaves out, which is why Iran, Russia, Belarus and Saudi Arabia weigh a little more here than in a count of
physical acts.

Host states (`Origin.hosts`). Where each diaspora or exile community actually lives and where cases have been
reported: Turkish exiles mostly in Germany, the Netherlands, France, Austria, Belgium and Sweden, and in Central
Asia and the Balkans where Ankara obtained renditions; Tajik and Uzbek labour migrants in Russia and Türkiye, with
exiles in Lithuania, Poland and Germany; Russian exiles in Germany, the Baltic states, the UK and Georgia;
Belarusians in Lithuania and Poland; Cambodian, Lao, Vietnamese and Thai exiles in each other's countries (the
"swap-mart" pattern); Rwandans in East and Southern Africa and Belgium; Nicaraguans in Costa Rica; and so on. An EU
focal-point system sees incidents in the EU more readily than elsewhere, so EU Member States' weights are multiplied
by `EU_REPORTING_BOOST` (1.5); the result is that roughly 40 percent of incidents are located in the EU, a "healthy
share" for an EU system without pretending that transnational repression happens mostly in Europe.

Tactics (`Origin.scenarios`). Each incident follows a scenario, a typical bundle of tactics (an Interpol-based
detention is red notice + detention, sometimes extradition request and forced return). Weights per origin follow the
documented repertoire: Interpol notices and extradition requests for Tajikistan, Türkiye, Uzbekistan, Kyrgyzstan and
Kazakhstan; renditions for Türkiye, Tajikistan, Cambodia, Laos, Thailand and Uganda; family coercion, online
campaigns and police "service stations" for China; family coercion, online harassment and murder plots for Iran;
prosecutions in absentia for Russia and Belarus; passport denial and denationalisation for Nicaragua and Bahrain;
the "diaspora tax" and economic pressure for Eritrea; spyware for Saudi Arabia, the UAE and Bahrain. Killings are
rare everywhere (well under one percent of incidents for most origins, a little more for Russia, Iran, Rwanda and
Laos/Thailand).

Targets (`Origin.targets`, `Origin.communities`). Target categories per origin follow who is targeted: Uyghurs,
Tibetans and Hong Kong activists for China (flagged ethnic or religious minority), alleged Gülen movement members
(academics, teachers, journalists) for Türkiye, opposition and Islamic Renaissance Party members for Tajikistan,
journalists and former insiders for Russia, and so on. Vulnerability flags: women in about a quarter of incidents
(more for Iran and Saudi Arabia), refugees in about a third, children, LGBTQI people and stateless people rarely.

Everything else (dates, precision, verification, TLP, sources) is drawn in `demo.py` and explained there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The last day synthetic incidents may fall on: fixed rather than "today", so that a seed gives the same data any day.
DATA_START = dt.date(2014, 1, 1)
DATA_END = dt.date(2026, 10, 31)

EU_MEMBER_STATES = frozenset(
    (
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    )
)
EU_REPORTING_BOOST = 1.5

# States where the rule of law usually constrains the host state's role: removals meet courts, attacks meet police.
RULE_OF_LAW_HOSTS = EU_MEMBER_STATES | frozenset(("GB", "CH", "NO", "IS", "US", "CA", "AU", "NZ", "JP", "KR", "TW"))

# Incidents per year, relative: Freedom House and others record growth since 2014, a spike after Türkiye's 2016 coup
# attempt, a dip in 2020 when travel stopped, and a rise again after Russia's 2022 invasion of Ukraine.
YEAR_WEIGHTS: dict[int, float] = {
    2014: 0.45, 2015: 0.5, 2016: 0.7, 2017: 0.85, 2018: 0.9, 2019: 0.95, 2020: 0.7,
    2021: 0.95, 2022: 1.05, 2023: 1.15, 2024: 1.25, 2025: 1.3, 2026: 1.35,
}  # fmt: skip
# Seasonality: quieter in the summer holidays and around the new year, busier in spring and autumn.
MONTH_WEIGHTS = (0.85, 0.95, 1.05, 1.05, 1.05, 1.0, 0.95, 0.8, 1.05, 1.1, 1.05, 0.85)


def weights(spec: str) -> tuple[tuple[str, float], ...]:
    """Parse "CODE WEIGHT CODE WEIGHT ..." into pairs; keeps the tables below readable."""
    parts = spec.split()
    if len(parts) % 2:
        raise ValueError(f"unpaired weight spec: {spec!r}")
    return tuple((parts[i], float(parts[i + 1])) for i in range(0, len(parts), 2))


@dataclass(frozen=True)
class Surge:
    """A sustained escalation in the last months of the data, for the monitoring page to find (services/monitoring.py):
    one origin's incidents in one host state, rising month by month. `share`: the part of all incidents drawn from
    it; `months`: (year, month, weight) over which they spread."""

    origin: str
    host: str
    scenarios: tuple[tuple[str, float], ...]
    months: tuple[tuple[int, int, float], ...]
    share: float


# Made up, in the shape of what removal waves look like (Interpol-based detentions and deportations of one exile
# community by one host state): Uzbekistan -> Türkiye from August 2026, rising until the data ends. At 5,000 demo
# incidents it adds about 20 to a pair that averages a fifth of an incident a month, enough for the pair, the origin
# and the host to signal in October 2026 without dwarfing the rest of the data.
SURGE = Surge(
    origin="UZ",
    host="TR",
    scenarios=weights("interpol 40 deportation 45 extradition 15"),
    months=((2026, 8, 1.0), (2026, 9, 2.0), (2026, 10, 3.0)),
    share=0.004,
)


@dataclass(frozen=True)
class Community:
    """How the target is described in titles ("Uyghur", "Turkish"), and the vulnerability flags that come with it."""

    adjective: str
    weight: float
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Origin:
    code: str
    name: str  # as used in generated text ("returned to Russia")
    weight: float
    communities: tuple[Community, ...]
    hosts: tuple[tuple[str, float], ...]
    scenarios: tuple[tuple[str, float], ...]
    targets: tuple[tuple[str, float], ...]
    years: tuple[tuple[int, float], ...] = ()  # multipliers on YEAR_WEIGHTS for this origin
    women: float = 0.25  # share of incidents whose target is a woman


def year_factors(spec: str) -> tuple[tuple[int, float], ...]:
    """Parse "YEAR FACTOR" or "FIRST-LAST FACTOR" pairs, e.g. "2014-2019 0.25 2020 1.5", into (year, factor) pairs."""
    pairs = []
    for span, factor in weights(spec):
        first, _, last = span.partition("-")
        pairs += [(year, factor) for year in range(int(first), int(last or first) + 1)]
    return tuple(pairs)


C = Community
ORIGINS: tuple[Origin, ...] = (
    Origin(
        code="CN",
        name="China",
        weight=220,
        communities=(
            C("Uyghur", 40, ("ethnic_minority", "religious_minority")),
            C("Chinese", 30),
            C("Tibetan", 10, ("ethnic_minority", "religious_minority")),
            C("Hong Kong", 12),
            C("Southern Mongolian", 3, ("ethnic_minority",)),
            C("Falun Gong-practising", 5, ("religious_minority",)),
        ),
        hosts=weights(
            "TH 8 US 10 KZ 6 KG 4 TR 6 MY 4 AE 5 EG 3 DE 6 NL 4 FR 5 GB 6 CA 5 AU 5 SE 3 BE 2 IT 2 CZ 2 "
            "IE 2 JP 3 NP 3 SA 3 UZ 2 PK 2 ES 2 TW 2"
        ),
        scenarios=weights(
            "family 20 online 12 threats 10 surveillance 10 outpost 6 deportation 10 interpol 5 extradition 4 "
            "rendition 3 spyware 4 hacking 6 documents 6 assault 2 economic 2"
        ),
        targets=weights(
            "minority 25 activist 20 religious 12 diaspora_member 15 journalist 8 dissident 10 academic 5 hrd 5"
        ),
        years=year_factors("2017-2019 1.4 2020-2023 1.2"),
    ),
    Origin(
        code="TR",
        name="Türkiye",
        weight=120,
        communities=(C("Turkish", 80), C("Kurdish", 20, ("ethnic_minority",))),
        hosts=weights(
            "DE 18 NL 6 FR 6 AT 5 BE 4 SE 4 KZ 4 AZ 3 KG 3 PK 3 MD 3 KE 2 MA 2 AL 2 XK 3 UA 2 GB 3 US 4 "
            "GR 4 CH 3 IQ 2 SA 2 TM 2 ES 1 IT 1 DK 1 PL 1 RO 2 BG 2"
        ),
        scenarios=weights(
            "rendition 10 deportation 14 interpol 14 extradition 12 absentia 10 documents 6 family 8 threats 6 "
            "surveillance 6 online 6 assault 3 economic 3 spyware 1 hacking 1"
        ),
        targets=weights(
            "dissident 25 academic 15 journalist 15 religious 15 activist 10 hrd 5 lawyer 5 diaspora_member 10"
        ),
        years=year_factors("2014 0.3 2015 0.5 2016 2.0 2017 2.2 2018 1.8 2019 1.3"),
    ),
    Origin(
        code="TJ",
        name="Tajikistan",
        weight=70,
        communities=(C("Tajik", 85), C("Pamiri", 15, ("ethnic_minority",))),
        hosts=weights("RU 30 TR 10 LT 4 DE 6 PL 6 AT 3 FR 3 BY 2 KZ 4 UA 2 NL 2 SE 2 AE 3 KG 2 MD 1 FI 1 CZ 1"),
        scenarios=weights(
            "interpol 18 extradition 14 deportation 18 rendition 10 family 14 threats 6 absentia 6 assault 4 "
            "documents 4 online 4 surveillance 2"
        ),
        targets=weights("dissident 40 activist 20 religious 15 journalist 8 diaspora_member 10 lawyer 4 hrd 3"),
    ),
    Origin(
        code="RU",
        name="Russia",
        weight=70,
        communities=(
            C("Russian", 75),
            C("Chechen", 18, ("ethnic_minority",)),
            C("Crimean Tatar", 4, ("ethnic_minority",)),
            C("Ingush", 3, ("ethnic_minority",)),
        ),
        hosts=weights(
            "DE 12 LT 8 LV 6 GB 8 GE 8 EE 4 PL 5 CZ 4 FR 5 AT 3 ES 4 ME 3 RS 3 TR 6 AM 4 KZ 4 KG 3 UA 4 "
            "FI 3 NL 3 CY 2 NO 2 US 4 IL 2 IT 2 SE 2 BG 2 AE 2"
        ),
        scenarios=weights(
            "killing 3 plot 5 assault 6 absentia 20 interpol 6 extradition 8 deportation 6 family 8 threats 8 "
            "surveillance 6 spyware 4 hacking 8 online 8 documents 6 economic 3 rendition 2"
        ),
        targets=weights(
            "journalist 22 dissident 25 activist 18 former_insider 10 hrd 8 lawyer 4 academic 4 diaspora_member 9"
        ),
        years=year_factors("2014-2021 0.6 2022-2026 1.8"),
    ),
    Origin(
        code="EG",
        name="Egypt",
        weight=45,
        communities=(C("Egyptian", 100),),
        hosts=weights("TR 12 QA 4 GB 8 DE 6 FR 6 US 8 SD 5 SA 6 AE 4 KW 4 NL 2 IT 4 AT 2 LB 2 MY 2 BE 2"),
        scenarios=weights(
            "family 20 absentia 12 documents 14 deportation 10 interpol 8 extradition 6 threats 8 online 8 "
            "surveillance 4 rendition 3 hacking 4 spyware 3"
        ),
        targets=weights(
            "dissident 30 activist 20 journalist 18 hrd 12 academic 5 religious 8 lawyer 4 diaspora_member 3"
        ),
    ),
    Origin(
        code="TM",
        name="Turkmenistan",
        weight=30,
        communities=(C("Turkmen", 100),),
        hosts=weights("TR 40 RU 20 US 4 DE 4 CY 5 UA 4 BY 3 NL 2 AT 2 KZ 3 AE 3"),
        scenarios=weights(
            "deportation 25 documents 20 family 15 threats 10 rendition 6 surveillance 6 online 6 interpol 4 "
            "assault 4 economic 4"
        ),
        targets=weights("activist 35 dissident 25 diaspora_member 25 journalist 10 religious 5"),
    ),
    Origin(
        code="KH",
        name="Cambodia",
        weight=40,
        communities=(C("Cambodian", 100),),
        hosts=weights("TH 40 MY 10 VN 6 FR 8 US 6 AU 5 KR 3 JP 2 ID 2 DE 2 CA 2 NZ 1"),
        scenarios=weights(
            "deportation 25 rendition 15 assault 10 threats 10 family 10 online 10 killing 2 surveillance 6 "
            "absentia 8 plot 2 documents 2"
        ),
        targets=weights("dissident 45 activist 25 journalist 10 hrd 10 diaspora_member 10"),
        years=year_factors("2017-2019 1.3 2023-2025 1.5"),
    ),
    Origin(
        code="UZ",
        name="Uzbekistan",
        weight=30,
        communities=(C("Uzbek", 90), C("Karakalpak", 10, ("ethnic_minority",))),
        hosts=weights("RU 25 TR 15 KZ 10 KG 6 UA 5 DE 6 SE 4 PL 3 LV 2 FI 2 US 3 AE 3 CZ 2"),
        scenarios=weights(
            "deportation 20 interpol 15 extradition 12 family 15 rendition 8 threats 8 online 8 absentia 6 "
            "assault 4 surveillance 4"
        ),
        targets=weights("religious 30 dissident 25 activist 15 journalist 10 hrd 8 diaspora_member 12"),
    ),
    Origin(
        code="RW",
        name="Rwanda",
        weight=28,
        communities=(C("Rwandan", 100),),
        hosts=weights("UG 10 KE 10 ZA 10 MZ 8 BE 10 FR 6 GB 6 US 6 CA 3 NL 4 CD 4 TZ 4 DE 3 SE 2 MW 2 ES 2"),
        scenarios=weights(
            "threats 15 surveillance 12 family 10 killing 4 plot 6 assault 8 rendition 5 extradition 10 "
            "interpol 6 online 10 absentia 6 deportation 6 hacking 2 spyware 2"
        ),
        targets=weights("dissident 40 former_insider 20 journalist 10 activist 10 hrd 8 diaspora_member 12"),
    ),
    Origin(
        code="BY",
        name="Belarus",
        weight=30,
        communities=(C("Belarusian", 100),),
        hosts=weights("LT 25 PL 25 LV 8 UA 8 DE 8 GE 6 CZ 5 EE 3 RU 6 FR 2 SE 2 KZ 2 AM 2 NL 2"),
        scenarios=weights(
            "absentia 25 family 15 interpol 8 extradition 6 threats 10 online 12 hacking 8 deportation 5 "
            "documents 6 economic 3 rendition 2 surveillance 5"
        ),
        targets=weights("activist 30 journalist 25 dissident 25 hrd 8 lawyer 4 academic 3 diaspora_member 5"),
        years=year_factors("2014-2019 0.25 2020 1.5 2021 2.5 2022 2.0 2023-2026 1.6"),
    ),
    Origin(
        code="IR",
        name="Iran",
        weight=40,
        communities=(
            C("Iranian", 70),
            C("Kurdish", 15, ("ethnic_minority",)),
            C("Baloch", 5, ("ethnic_minority",)),
            C("Baha'i", 5, ("religious_minority",)),
            C("Ahwazi Arab", 5, ("ethnic_minority",)),
        ),
        hosts=weights(
            "TR 12 IQ 8 DE 10 GB 10 FR 7 NL 6 SE 8 AT 3 DK 4 BE 3 US 8 CA 6 AE 6 AM 2 GE 2 CY 3 AU 3 NO 3 IT 2 ES 2"
        ),
        scenarios=weights(
            "plot 10 killing 2 assault 6 threats 12 family 18 online 14 hacking 8 spyware 5 surveillance 8 "
            "rendition 5 absentia 6 deportation 4 economic 2"
        ),
        targets=weights("journalist 25 activist 25 dissident 20 hrd 10 minority 10 religious 5 diaspora_member 5"),
        women=0.4,
    ),
    Origin(
        code="SA",
        name="Saudi Arabia",
        weight=22,
        communities=(C("Saudi", 100),),
        hosts=weights("GB 10 US 12 CA 8 TR 8 DE 6 FR 4 IE 2 NL 2 BE 2 AU 3 LB 3 AE 5 EG 5 KW 3 QA 2 JO 2 SE 2 MA 2"),
        scenarios=weights(
            "online 18 hacking 10 spyware 10 threats 10 family 15 absentia 8 documents 8 rendition 4 "
            "killing 1 deportation 6 interpol 4 surveillance 6"
        ),
        targets=weights("dissident 35 hrd 20 activist 20 religious 10 journalist 10 former_insider 5"),
        years=year_factors("2017-2019 1.6"),
        women=0.4,
    ),
    Origin(
        code="ER",
        name="Eritrea",
        weight=12,
        communities=(C("Eritrean", 100),),
        hosts=weights("SD 15 ET 10 EG 6 KE 5 UG 5 IL 6 DE 10 NL 8 SE 8 GB 6 IT 6 CH 6 NO 4 US 4 LY 6 FR 3 BE 3 DK 2"),
        scenarios=weights(
            "economic 25 threats 15 family 15 documents 15 surveillance 10 deportation 8 rendition 4 online 8"
        ),
        targets=weights("diaspora_member 45 dissident 25 journalist 10 religious 10 activist 10"),
    ),
    Origin(
        code="VN",
        name="Vietnam",
        weight=20,
        communities=(C("Vietnamese", 90), C("Montagnard", 10, ("ethnic_minority", "religious_minority"))),
        hosts=weights("TH 20 DE 20 KH 10 LA 10 MY 6 FR 6 CZ 8 PL 6 US 8 AU 6 JP 4 KR 3 TW 4 GB 3"),
        scenarios=weights(
            "rendition 10 deportation 15 family 10 threats 10 online 15 hacking 10 spyware 5 absentia 10 "
            "surveillance 5 assault 3 documents 7"
        ),
        targets=weights("journalist 25 activist 30 hrd 15 dissident 15 religious 10 former_insider 5"),
    ),
    Origin(
        code="AZ",
        name="Azerbaijan",
        weight=18,
        communities=(C("Azerbaijani", 100),),
        hosts=weights("TR 15 GE 15 FR 10 DE 10 RU 8 NL 5 SE 4 AT 4 UA 4 BE 3 KZ 3 LT 2 CZ 3 GB 3 CH 2"),
        scenarios=weights(
            "assault 10 threats 12 family 12 online 12 hacking 8 spyware 5 interpol 8 extradition 8 "
            "deportation 8 absentia 10 rendition 3 killing 1 plot 2"
        ),
        targets=weights("journalist 30 activist 25 dissident 25 hrd 10 diaspora_member 10"),
    ),
    Origin(
        code="PK",
        name="Pakistan",
        weight=14,
        communities=(
            C("Pakistani", 70),
            C("Baloch", 15, ("ethnic_minority",)),
            C("Pashtun", 8, ("ethnic_minority",)),
            C("Ahmadi", 7, ("religious_minority",)),
        ),
        hosts=weights("GB 18 AF 6 AE 8 SE 6 NL 6 DE 6 CA 6 US 8 TH 5 KE 5 SA 5 FR 3 BE 2 NO 3 IT 3 ES 3"),
        scenarios=weights(
            "threats 15 online 15 family 12 killing 4 plot 3 assault 8 absentia 10 documents 12 hacking 6 "
            "surveillance 6 rendition 3 deportation 6"
        ),
        targets=weights("journalist 35 activist 25 dissident 15 minority 10 hrd 10 religious 5"),
    ),
    Origin(
        code="BH",
        name="Bahrain",
        weight=10,
        communities=(C("Bahraini", 70), C("Bahraini Shia", 30, ("religious_minority",))),
        hosts=weights("GB 20 DE 10 IQ 6 IR 4 LB 5 AE 4 SA 5 QA 4 KW 3 DK 4 IE 3 FR 2 US 4 TH 3"),
        scenarios=weights("documents 25 absentia 20 family 12 online 12 spyware 10 threats 8 deportation 6 interpol 5"),
        targets=weights("activist 35 hrd 25 religious 15 dissident 15 journalist 10"),
    ),
    Origin(
        code="IN",
        name="India",
        weight=12,
        communities=(C("Sikh", 55, ("religious_minority",)), C("Kashmiri", 20, ("ethnic_minority",)), C("Indian", 25)),
        hosts=weights("CA 25 GB 15 US 15 AU 8 PK 5 NP 4 DE 5 IT 4 NL 3 FR 3 BE 2 AE 4 NZ 3"),
        scenarios=weights(
            "threats 12 online 18 surveillance 12 plot 6 killing 3 documents 15 family 10 absentia 10 hacking 6 "
            "spyware 4 interpol 4"
        ),
        targets=weights("activist 40 journalist 20 religious 10 dissident 15 academic 10 hrd 5"),
    ),
    Origin(
        code="NI",
        name="Nicaragua",
        weight=8,
        communities=(C("Nicaraguan", 100),),
        hosts=weights("CR 45 US 15 ES 15 PA 5 MX 5 HN 3 GT 3 DE 3 FR 2 IT 2 SV 2"),
        scenarios=weights(
            "documents 30 absentia 20 family 15 threats 10 online 8 economic 7 surveillance 5 assault 3 deportation 2"
        ),
        targets=weights("dissident 30 journalist 20 activist 20 religious 10 hrd 10 academic 5 former_insider 5"),
        years=year_factors("2014-2017 0.1 2018 1.5 2021-2022 2.0 2023-2026 2.5"),
    ),
    Origin(
        code="UG",
        name="Uganda",
        weight=14,
        communities=(C("Ugandan", 100),),
        hosts=weights("KE 40 RW 5 ZA 6 TZ 6 GB 8 US 6 SE 3 DE 3 NL 3 BE 3 SS 4 CD 4"),
        scenarios=weights(
            "rendition 25 deportation 15 threats 10 assault 8 family 10 absentia 8 online 8 surveillance 6 "
            "extradition 5 interpol 5"
        ),
        targets=weights("dissident 45 activist 25 journalist 15 hrd 10 lawyer 5"),
        years=year_factors("2014-2020 0.4 2024-2026 2.5"),
    ),
    Origin(
        code="TH",
        name="Thailand",
        weight=10,
        communities=(C("Thai", 100),),
        hosts=weights("LA 25 KH 25 VN 12 MY 10 FR 8 DE 5 GB 4 US 5 JP 3 NZ 2 AU 2"),
        scenarios=weights(
            "rendition 20 killing 5 deportation 20 threats 10 absentia 15 online 10 family 8 surveillance 6 "
            "assault 3 extradition 3"
        ),
        targets=weights("activist 40 dissident 35 journalist 10 academic 10 hrd 5"),
    ),
    Origin(
        code="LA",
        name="Laos",
        weight=6,
        communities=(C("Lao", 80), C("Hmong", 20, ("ethnic_minority",))),
        hosts=weights("TH 60 FR 10 US 10 AU 6 DE 4 KH 5"),
        scenarios=weights(
            "rendition 25 deportation 25 killing 5 threats 10 family 10 surveillance 10 assault 5 online 5 documents 5"
        ),
        targets=weights("activist 40 dissident 30 hrd 15 minority 15"),
    ),
    Origin(
        code="KG",
        name="Kyrgyzstan",
        weight=8,
        communities=(C("Kyrgyz", 100),),
        hosts=weights("RU 30 KZ 20 TR 15 DE 8 UA 4 US 4 PL 4 LT 3 CZ 3"),
        scenarios=weights(
            "deportation 20 extradition 15 interpol 12 rendition 8 family 12 threats 8 absentia 10 online 8 documents 4"
        ),
        targets=weights("journalist 25 dissident 30 activist 20 religious 15 former_insider 10"),
    ),
    Origin(
        code="KZ",
        name="Kazakhstan",
        weight=6,
        communities=(C("Kazakh", 100),),
        hosts=weights("RU 20 UA 12 KG 10 TR 10 DE 10 FR 5 GB 6 US 6 LT 3 PL 4 NL 3 CZ 3"),
        scenarios=weights(
            "interpol 15 extradition 15 absentia 15 family 10 threats 10 online 10 hacking 8 deportation 8 "
            "surveillance 5 assault 4"
        ),
        targets=weights("dissident 30 former_insider 20 journalist 20 activist 20 lawyer 10"),
    ),
    Origin(
        code="AE",
        name="the United Arab Emirates",
        weight=6,
        communities=(C("Emirati", 100),),
        hosts=weights("GB 20 US 10 DE 8 FR 10 NL 4 IE 4 SE 3 JO 6 LB 6 TR 8 EG 6 QA 4"),
        scenarios=weights(
            "absentia 15 documents 15 family 12 spyware 15 hacking 10 online 10 threats 8 interpol 8 "
            "extradition 5 rendition 2"
        ),
        targets=weights("hrd 30 dissident 30 activist 20 academic 10 religious 10"),
        women=0.35,
    ),
    Origin(
        code="SY",
        name="Syria",
        weight=8,
        communities=(C("Syrian", 80), C("Syrian Kurdish", 20, ("ethnic_minority",))),
        hosts=weights("TR 25 LB 20 JO 10 DE 20 SE 8 NL 6 AT 6 FR 4 DK 3 BE 3 GB 4"),
        scenarios=weights(
            "family 20 threats 15 surveillance 12 online 10 hacking 8 absentia 10 documents 10 assault 5 "
            "rendition 3 deportation 4 interpol 3"
        ),
        targets=weights("activist 30 dissident 25 journalist 15 hrd 10 diaspora_member 15 former_insider 5"),
        years=year_factors("2025-2026 0.3"),
    ),
    Origin(
        code="BD",
        name="Bangladesh",
        weight=6,
        communities=(C("Bangladeshi", 100),),
        hosts=weights("IN 15 GB 20 US 15 MY 8 SE 6 DE 6 FR 5 IT 6 CA 6 AU 5 AE 5"),
        scenarios=weights(
            "deportation 15 rendition 10 threats 12 family 15 online 15 absentia 10 documents 10 surveillance 6 "
            "extradition 4 assault 3"
        ),
        targets=weights("journalist 30 activist 30 dissident 25 hrd 10 academic 5"),
    ),
)
del C


@dataclass(frozen=True)
class Scenario:
    """A typical bundle of tactics, and how such an incident is told.

    `core`: one tactic is drawn from these (weighted); `extras`: each is added with its probability. `host_class`
    decides the host-state role mix: "removal" (the host state's own organs act), "presence" (something happens on
    its territory) or "remote" (the act happens elsewhere, e.g. to relatives at home). `second_location`: how often
    an incident has a second location in the origin state (relatives at home, or where a returned person is held).
    `texts`, for each core tactic: (title, sentence) pairs. Titles take {who}, {where} and {origin}; a sentence
    continues "A Tajik journalist living in Vilnius, referred to here as Person P-..., " and takes {origin}.
    """

    core: tuple[tuple[str, float], ...]
    extras: tuple[tuple[str, float], ...]
    host_class: str
    actors: tuple[tuple[str, str], ...]  # (actor type, actor role)
    texts: dict[str, tuple[tuple[str, str], ...]]
    second_location: float = 0.0


SCENARIOS: dict[str, Scenario] = {
    "interpol": Scenario(
        core=weights("interpol_red_notice 70 interpol_diffusion 20 interpol_blue_notice 10"),
        extras=weights(
            "third_country_detention 0.75 extradition_request 0.45 forced_return 0.15 in_absentia_prosecution 0.2"
        ),
        host_class="removal",
        actors=(("police", "perpetrator"), ("judiciary", "perpetrator")),
        texts={
            "interpol_red_notice": (
                (
                    "{who} detained in {where} on an Interpol red notice",
                    "was arrested on the strength of an Interpol red notice that {origin} obtained on charges that "
                    "appear to be politically motivated",
                ),
                (
                    "Interpol red notice against {who} in {where}",
                    "learned that {origin} had obtained an Interpol red notice for alleged terrorism after they "
                    "organised protests from abroad",
                ),
            ),
            "interpol_diffusion": (
                (
                    "{who} stopped in {where} on an Interpol diffusion",
                    "was stopped at a border crossing on a wanted-person diffusion that {origin} had circulated",
                ),
            ),
            "interpol_blue_notice": (
                (
                    "Interpol blue notice seeks the whereabouts of {who} in {where}",
                    "learned that {origin} had requested an Interpol blue notice to locate them",
                ),
            ),
        },
    ),
    "extradition": Scenario(
        core=weights("extradition_request 100"),
        extras=weights("third_country_detention 0.6 forced_return 0.25 in_absentia_prosecution 0.25"),
        host_class="removal",
        actors=(("judiciary", "perpetrator"), ("police", "perpetrator")),
        texts={
            "extradition_request": (
                (
                    "{origin} seeks the extradition of {who} from {where}",
                    "became the subject of an extradition request from {origin} on charges of extremism",
                ),
                (
                    "Extradition request against {who} in {where}",
                    "was detained pending a hearing on an extradition request from {origin} concerning alleged fraud",
                ),
            ),
        },
    ),
    "deportation": Scenario(
        core=weights("forced_return 100"),
        extras=weights("third_country_detention 0.5 enforced_disappearance 0.1 document_denial 0.1"),
        host_class="removal",
        actors=(("intelligence_service", "suspected"), ("diplomatic_mission", "facilitator")),
        texts={
            "forced_return": (
                (
                    "{who} deported from {where} to {origin}",
                    "was deported to {origin} while an asylum claim was still pending",
                ),
                (
                    "{who} forcibly returned from {where}",
                    "was removed to {origin} after its embassy reported them as a security threat",
                ),
            ),
        },
        second_location=0.3,
    ),
    "rendition": Scenario(
        core=weights("abduction 100"),
        extras=weights("enforced_disappearance 0.4 third_country_detention 0.3"),
        host_class="removal",
        actors=(("intelligence_service", "perpetrator"),),
        texts={
            "abduction": (
                (
                    "{who} abducted in {where}",
                    "was seized by unidentified men and later reappeared in custody in {origin}",
                ),
                (
                    "Rendition of {who} from {where} to {origin}",
                    "was handed over to officers of {origin} without any hearing",
                ),
            ),
        },
        second_location=0.5,
    ),
    "killing": Scenario(
        core=weights("assassination 100"),
        extras=weights("stalking 0.3 threats 0.2"),
        host_class="presence",
        actors=(("intelligence_service", "suspected"), ("criminal_group", "perpetrator")),
        texts={
            "assassination": (
                ("{who} killed in {where}", "was killed; investigators point to people acting for {origin}"),
                (
                    "{who} found dead in {where}; {origin} suspected",
                    "was found dead in circumstances that investigators link to {origin}",
                ),
            ),
        },
    ),
    "plot": Scenario(
        core=weights("attempted_assassination 100"),
        extras=weights("stalking 0.4 threats 0.2"),
        host_class="presence",
        actors=(("intelligence_service", "suspected"), ("criminal_group", "perpetrator")),
        texts={
            "attempted_assassination": (
                (
                    "Plot to kill {who} foiled in {where}",
                    "was the target of a plot to kill them that police disrupted after the suspects had "
                    "reconnoitred their home",
                ),
                (
                    "{who} survives an attack in {where}",
                    "survived an attack that prosecutors attribute to a network working for {origin}",
                ),
            ),
        },
    ),
    "assault": Scenario(
        core=weights("assault 100"),
        extras=weights("threats 0.4 stalking 0.15"),
        host_class="presence",
        actors=(("diaspora_association", "perpetrator"), ("criminal_group", "perpetrator")),
        texts={
            "assault": (
                (
                    "{who} assaulted in {where}",
                    "was beaten by men who had warned them to stop criticising the government of {origin}",
                ),
                (
                    "Attack on {who} at a protest in {where}",
                    "was attacked during a demonstration outside the embassy of {origin}",
                ),
            ),
        },
    ),
    "family": Scenario(
        core=weights("family_threats 45 family_detention 30 family_pressure 25"),
        extras=weights("family_pressure 0.25 threats 0.2 digital_surveillance 0.2 document_denial 0.05"),
        host_class="remote",
        actors=(("police", "perpetrator"), ("intelligence_service", "perpetrator")),
        texts={
            "family_threats": (
                (
                    "Relatives of {who} in {where} threatened in {origin}",
                    "was told through relatives in {origin} that the family would suffer unless they stopped "
                    "speaking out",
                ),
            ),
            "family_detention": (
                (
                    "Family of {who} in {where} detained in {origin}",
                    "learned that police in {origin} had detained two of their relatives days after they spoke "
                    "to foreign media",
                ),
            ),
            "family_pressure": (
                (
                    "Relatives of {who} in {where} pressured in {origin}",
                    "learned that police in {origin} had summoned their relatives and told them to bring the target "
                    "home",
                ),
            ),
        },
        second_location=0.35,
    ),
    "spyware": Scenario(
        core=weights("spyware 100"),
        extras=weights("account_compromise 0.2 digital_surveillance 0.2"),
        host_class="remote",
        actors=(("intelligence_service", "suspected"),),
        texts={
            "spyware": (
                (
                    "Spyware found on the phone of {who} in {where}",
                    "found that their phone had been infected with commercial spyware, according to a forensic check",
                ),
                (
                    "{who} in {where} targeted with spyware",
                    "received a platform warning about a state-sponsored attack after a message with a suspicious link",
                ),
            ),
        },
    ),
    "hacking": Scenario(
        core=weights("account_compromise 70 digital_surveillance 30"),
        extras=weights("doxxing 0.15 online_harassment 0.1"),
        host_class="remote",
        actors=(("intelligence_service", "suspected"),),
        texts={
            "account_compromise": (
                (
                    "Accounts of {who} in {where} compromised",
                    "had their e-mail and messaging accounts taken over after a phishing message",
                ),
            ),
            "digital_surveillance": (
                (
                    "Group chat of {who} in {where} infiltrated",
                    "found that a group chat they ran had been infiltrated by an account linked to {origin}",
                ),
            ),
        },
    ),
    "online": Scenario(
        core=weights("online_harassment 45 smear_campaign 40 doxxing 15"),
        extras=weights("ai_manipulation 0.12 threats 0.1"),
        host_class="remote",
        actors=(("state_media", "perpetrator"),),
        texts={
            "online_harassment": (
                (
                    "{who} in {where} harassed online",
                    "was targeted by hundreds of near-identical accounts posting threats",
                ),
            ),
            "smear_campaign": (
                (
                    "Smear campaign targets {who} in {where}",
                    "was presented as a foreign agent in programmes aired by state media of {origin}",
                ),
            ),
            "doxxing": (
                (
                    "Personal data of {who} in {where} published",
                    "found their home address and workplace posted by a channel close to the government of {origin}",
                ),
            ),
        },
    ),
    "threats": Scenario(
        core=weights("threats 80 blackmail 20"),
        extras=weights("family_threats 0.2 stalking 0.15"),
        host_class="presence",
        actors=(("diplomatic_mission", "perpetrator"), ("intelligence_service", "suspected")),
        texts={
            "threats": (
                (
                    "{who} threatened in {where}",
                    "received repeated calls from a consular official warning them to return to {origin}",
                ),
                (
                    "Threats against {who} in {where}",
                    "was warned in person by a man who said he spoke for the authorities of {origin}",
                ),
            ),
            "blackmail": (
                (
                    "{who} in {where} blackmailed to inform",
                    "was pressed to report on community meetings under threat of exposing private information",
                ),
            ),
        },
    ),
    "surveillance": Scenario(
        core=weights("stalking 55 informants 45"),
        extras=weights("digital_surveillance 0.2 threats 0.15"),
        host_class="presence",
        actors=(("intelligence_service", "perpetrator"), ("diaspora_association", "facilitator")),
        texts={
            "stalking": (
                (
                    "{who} followed and photographed in {where}",
                    "noticed that they were followed and photographed at community meetings",
                ),
            ),
            "informants": (
                (
                    "Informants report on {who} in {where}",
                    "learned that members of a community association had reported on their activities to {origin}",
                ),
            ),
        },
    ),
    "outpost": Scenario(
        core=weights("police_stations 100"),
        extras=weights("informants 0.4 threats 0.3 family_threats 0.2"),
        host_class="presence",
        actors=(("police", "perpetrator"), ("diaspora_association", "facilitator")),
        texts={
            "police_stations": (
                (
                    "Undeclared police station pressures {who} in {where}",
                    "was asked to report to an office presented as a community service centre and urged to return "
                    "to {origin}",
                ),
            ),
        },
    ),
    "absentia": Scenario(
        core=weights("in_absentia_prosecution 100"),
        extras=weights("asset_freeze 0.3 interpol_red_notice 0.15 document_denial 0.1"),
        host_class="remote",
        actors=(("judiciary", "perpetrator"),),
        texts={
            "in_absentia_prosecution": (
                (
                    "{who} in {where} sentenced in absentia in {origin}",
                    "was sentenced in absentia in {origin} for spreading false information",
                ),
                (
                    "{origin} lists {who} in {where} as an extremist",
                    "was added to a list of terrorists and extremists in {origin}, which blocked their bank cards",
                ),
            ),
        },
    ),
    "documents": Scenario(
        core=weights("document_denial 65 mobility_control 35"),
        extras=weights("family_pressure 0.1"),
        host_class="remote",
        actors=(("diplomatic_mission", "perpetrator"),),
        texts={
            "document_denial": (
                (
                    "Consulate refuses a passport to {who} in {where}",
                    "was refused a new passport at the consulate of {origin} unless they returned home first",
                ),
            ),
            "mobility_control": (
                (
                    "{who} in {where} stripped of citizenship",
                    "learned that {origin} had withdrawn their citizenship, leaving them without valid documents",
                ),
                (
                    "{who} in {where} flagged for refusal of entry",
                    "learned on arrival at a third-country airport that {origin} had flagged them for refusal of entry",
                ),
            ),
        },
    ),
    "economic": Scenario(
        core=weights("business_pressure 40 employer_pressure 30 property_pressure 30"),
        extras=weights("family_pressure 0.3 asset_freeze 0.1"),
        host_class="remote",
        actors=(("diplomatic_mission", "perpetrator"), ("state", "perpetrator")),
        texts={
            "business_pressure": (
                (
                    "Business of {who} in {where} targeted",
                    "lost clients after officials of {origin} warned business partners against working with them",
                ),
            ),
            "employer_pressure": (
                (
                    "Employer of {who} in {where} pressured",
                    "was dismissed after their employer received complaints from the embassy of {origin}",
                ),
            ),
            "property_pressure": (
                (
                    "Family property of {who} in {where} threatened",
                    "was told that their family's property in {origin} would be seized unless they paid a levy",
                ),
            ),
        },
    ),
}

TARGET_NOUNS: dict[str, tuple[str, str]] = {  # category: (singular, plural)
    "hrd": ("human rights defender", "human rights defenders"),
    "journalist": ("journalist", "journalists"),
    "dissident": ("opposition figure", "opposition members"),
    "lawyer": ("lawyer", "lawyers"),
    "academic": ("academic", "academics"),
    "religious": ("religious community member", "religious community members"),
    "minority": ("community member", "community members"),
    "activist": ("activist", "activists"),
    "former_insider": ("former official", "former officials"),
    "diaspora_member": ("diaspora member", "diaspora members"),
    "family_member": ("relative of an exile", "relatives of exiles"),
}

# Host-state role mix per host class and kind of host state (rule of law or not), in the taxonomy's order.
HOST_ROLE_WEIGHTS: dict[tuple[str, bool], tuple[tuple[str, float], ...]] = {
    ("removal", True): weights("protective 25 passive 20 cooperating 30 complicit 5 unknown 20"),
    ("removal", False): weights("protective 5 passive 15 cooperating 45 complicit 25 unknown 10"),
    ("presence", True): weights("protective 30 passive 35 cooperating 2 complicit 1 unknown 32"),
    ("presence", False): weights("protective 10 passive 40 cooperating 10 complicit 10 unknown 30"),
    ("remote", True): weights("protective 15 passive 35 unknown 50"),
    ("remote", False): weights("protective 5 passive 40 cooperating 5 unknown 50"),
}

# Synthetic actors per origin: (actor type, name pattern). The state is every other actor's parent.
ACTOR_TYPES: tuple[tuple[str, str], ...] = (
    ("state", "Government of {country} (synthetic)"),
    ("intelligence_service", "State Security Service of {country} (synthetic)"),
    ("police", "National Police of {country} (synthetic)"),
    ("diplomatic_mission", "Consular network of {country} (synthetic)"),
    ("judiciary", "Prosecutor's Office of {country} (synthetic)"),
    ("state_media", "State Broadcaster of {country} (synthetic)"),
    ("diaspora_association", "Loyalist diaspora association of {country} (synthetic)"),
    ("criminal_group", "Criminal network hired for {country} (synthetic)"),
)


@dataclass(frozen=True)
class Publisher:
    name: str
    slug: str  # URLs live under example.org/example.com/example.net, reserved for documentation (RFC 2606)
    domain: str
    kind: str  # how its items are titled
    reliability: tuple[tuple[str, float], ...]
    weight: float
    has_url: float = 1.0


PUBLISHERS: tuple[Publisher, ...] = (
    Publisher("Synthetic Monitor", "monitor", "example.org", "Case note", weights("A 10 B 45 C 35 D 10"), 25),
    Publisher("Example Rights Watch", "rights-watch", "example.org", "Report", weights("A 15 B 55 C 25 D 5"), 18),
    Publisher("Demo Diaspora Herald", "herald", "example.com", "Article", weights("B 20 C 50 D 20 E 5 F 5"), 20),
    Publisher("Fictional Press Agency", "press", "example.net", "Wire", weights("A 5 B 40 C 40 D 10 F 5"), 12),
    Publisher("Sample Court Bulletin", "court", "example.org", "Court record", weights("A 60 B 35 C 5"), 8),
    Publisher(
        "Mock Investigative Desk", "investigations", "example.com", "Investigation", weights("A 10 B 50 C 30 D 10"), 7
    ),
    Publisher("Placeholder Exile TV", "exile-tv", "example.net", "Broadcast", weights("C 40 D 35 E 15 F 10"), 6),
    Publisher(
        "Synthetic interview",
        "interviews",
        "example.org",
        "Interview transcript",
        weights("B 25 C 40 D 20 F 15"),
        10,
        has_url=0.0,
    ),
    Publisher("Synthetic social media post", "posts", "example.com", "Post", weights("D 30 E 30 F 40"), 6),
)
CREDIBILITY_WEIGHTS = weights("1 10 2 35 3 30 4 12 5 5 6 8")
SOURCE_COUNT_WEIGHTS = weights("0 8 1 45 2 30 3 12 4 5")

# Cities per state: (place, admin1, lat, lon). Every host and origin above needs at least one.
CITIES: dict[str, tuple[tuple[str, str, float, float], ...]] = {
    "DE": (
        ("Berlin", "Berlin", 52.520, 13.405),
        ("Hamburg", "Hamburg", 53.551, 9.994),
        ("Munich", "Bavaria", 48.137, 11.576),
        ("Cologne", "North Rhine-Westphalia", 50.938, 6.960),
        ("Frankfurt am Main", "Hesse", 50.110, 8.682),
        ("Düsseldorf", "North Rhine-Westphalia", 51.227, 6.774),
        ("Stuttgart", "Baden-Württemberg", 48.776, 9.183),
    ),
    "FR": (
        ("Paris", "Île-de-France", 48.857, 2.352),
        ("Lyon", "Auvergne-Rhône-Alpes", 45.764, 4.836),
        ("Marseille", "Provence-Alpes-Côte d'Azur", 43.297, 5.370),
        ("Strasbourg", "Grand Est", 48.573, 7.752),
        ("Nice", "Provence-Alpes-Côte d'Azur", 43.710, 7.262),
        ("Toulouse", "Occitanie", 43.605, 1.444),
    ),
    "NL": (
        ("Amsterdam", "North Holland", 52.370, 4.895),
        ("Rotterdam", "South Holland", 51.924, 4.478),
        ("The Hague", "South Holland", 52.070, 4.300),
        ("Utrecht", "Utrecht", 52.091, 5.122),
    ),
    "BE": (
        ("Brussels", "Brussels-Capital Region", 50.850, 4.352),
        ("Antwerp", "Flanders", 51.219, 4.402),
        ("Liège", "Wallonia", 50.633, 5.567),
        ("Ghent", "Flanders", 51.054, 3.717),
    ),
    "AT": (
        ("Vienna", "Vienna", 48.208, 16.373),
        ("Graz", "Styria", 47.071, 15.439),
        ("Linz", "Upper Austria", 48.306, 14.286),
        ("Salzburg", "Salzburg", 47.809, 13.055),
    ),
    "SE": (
        ("Stockholm", "Stockholm County", 59.329, 18.069),
        ("Gothenburg", "Västra Götaland", 57.709, 11.975),
        ("Malmö", "Skåne", 55.605, 13.004),
        ("Uppsala", "Uppsala County", 59.859, 17.639),
    ),
    "DK": (("Copenhagen", "Capital Region", 55.676, 12.568), ("Aarhus", "Central Denmark Region", 56.163, 10.204)),
    "FI": (("Helsinki", "Uusimaa", 60.170, 24.938), ("Tampere", "Pirkanmaa", 61.498, 23.761)),
    "PL": (
        ("Warsaw", "Masovian", 52.230, 21.012),
        ("Kraków", "Lesser Poland", 50.065, 19.945),
        ("Białystok", "Podlaskie", 53.133, 23.169),
        ("Wrocław", "Lower Silesian", 51.108, 17.038),
        ("Gdańsk", "Pomeranian", 54.352, 18.646),
    ),
    "LT": (
        ("Vilnius", "Vilnius County", 54.687, 25.280),
        ("Kaunas", "Kaunas County", 54.898, 23.904),
        ("Klaipėda", "Klaipėda County", 55.703, 21.144),
    ),
    "LV": (("Riga", "Riga", 56.950, 24.105), ("Daugavpils", "Latgale", 55.875, 26.536)),
    "EE": (("Tallinn", "Harju County", 59.437, 24.754), ("Tartu", "Tartu County", 58.378, 26.729)),
    "CZ": (("Prague", "Prague", 50.076, 14.438), ("Brno", "South Moravian Region", 49.195, 16.607)),
    "IT": (
        ("Rome", "Lazio", 41.903, 12.496),
        ("Milan", "Lombardy", 45.464, 9.190),
        ("Turin", "Piedmont", 45.070, 7.687),
        ("Naples", "Campania", 40.852, 14.268),
    ),
    "ES": (
        ("Madrid", "Community of Madrid", 40.417, -3.704),
        ("Barcelona", "Catalonia", 41.385, 2.173),
        ("Valencia", "Valencian Community", 39.470, -0.376),
        ("Málaga", "Andalusia", 36.721, -4.421),
    ),
    "GR": (("Athens", "Attica", 37.984, 23.728), ("Thessaloniki", "Central Macedonia", 40.640, 22.944)),
    "CY": (("Nicosia", "Nicosia District", 35.186, 33.382), ("Limassol", "Limassol District", 34.707, 33.022)),
    "IE": (("Dublin", "Leinster", 53.350, -6.260), ("Cork", "Munster", 51.898, -8.475)),
    "BG": (("Sofia", "Sofia City", 42.698, 23.322), ("Plovdiv", "Plovdiv Province", 42.135, 24.745)),
    "RO": (("Bucharest", "Bucharest", 44.427, 26.103), ("Cluj-Napoca", "Cluj County", 46.771, 23.624)),
    "GB": (
        ("London", "England", 51.507, -0.128),
        ("Manchester", "England", 53.481, -2.243),
        ("Birmingham", "England", 52.486, -1.890),
        ("Glasgow", "Scotland", 55.864, -4.252),
    ),
    "CH": (("Geneva", "Geneva", 46.204, 6.143), ("Zurich", "Zurich", 47.377, 8.541), ("Bern", "Bern", 46.948, 7.447)),
    "NO": (("Oslo", "Oslo", 59.914, 10.752), ("Bergen", "Vestland", 60.391, 5.322)),
    "US": (
        ("New York", "New York", 40.713, -74.006),
        ("Washington", "District of Columbia", 38.907, -77.037),
        ("Los Angeles", "California", 34.052, -118.244),
        ("Chicago", "Illinois", 41.878, -87.630),
        ("Houston", "Texas", 29.760, -95.370),
        ("San Francisco", "California", 37.775, -122.419),
    ),
    "CA": (
        ("Toronto", "Ontario", 43.653, -79.383),
        ("Vancouver", "British Columbia", 49.283, -123.121),
        ("Montreal", "Quebec", 45.502, -73.567),
        ("Surrey", "British Columbia", 49.191, -122.849),
    ),
    "AU": (
        ("Sydney", "New South Wales", -33.869, 151.209),
        ("Melbourne", "Victoria", -37.814, 144.963),
        ("Perth", "Western Australia", -31.951, 115.861),
    ),
    "NZ": (("Auckland", "Auckland", -36.848, 174.763),),
    "JP": (("Tokyo", "Tokyo", 35.676, 139.650), ("Osaka", "Osaka", 34.694, 135.502)),
    "KR": (("Seoul", "Seoul", 37.567, 126.978),),
    "TW": (("Taipei", "Taipei", 25.033, 121.565),),
    "TR": (
        ("Istanbul", "Istanbul", 41.008, 28.978),
        ("Ankara", "Ankara", 39.933, 32.860),
        ("Izmir", "Izmir", 38.423, 27.143),
        ("Antalya", "Antalya", 36.897, 30.713),
        ("Bursa", "Bursa", 40.183, 29.067),
        ("Van", "Van", 38.501, 43.373),
    ),
    "RU": (
        ("Moscow", "Moscow", 55.756, 37.617),
        ("Saint Petersburg", "Saint Petersburg", 59.939, 30.316),
        ("Yekaterinburg", "Sverdlovsk Oblast", 56.838, 60.597),
        ("Novosibirsk", "Novosibirsk Oblast", 55.008, 82.935),
        ("Kazan", "Tatarstan", 55.796, 49.108),
        ("Grozny", "Chechnya", 43.318, 45.694),
    ),
    "KZ": (
        ("Almaty", "Almaty", 43.238, 76.946),
        ("Astana", "Astana", 51.169, 71.449),
        ("Shymkent", "Shymkent", 42.342, 69.590),
    ),
    "KG": (("Bishkek", "Bishkek", 42.875, 74.604), ("Osh", "Osh", 40.513, 72.816)),
    "UZ": (("Tashkent", "Tashkent", 41.299, 69.240), ("Nukus", "Karakalpakstan", 42.460, 59.603)),
    "UA": (
        ("Kyiv", "Kyiv", 50.450, 30.523),
        ("Odesa", "Odesa Oblast", 46.482, 30.723),
        ("Kharkiv", "Kharkiv Oblast", 49.994, 36.230),
        ("Lviv", "Lviv Oblast", 49.839, 24.030),
    ),
    "GE": (("Tbilisi", "Tbilisi", 41.716, 44.783), ("Batumi", "Adjara", 41.643, 41.640)),
    "AM": (("Yerevan", "Yerevan", 40.179, 44.499),),
    "AZ": (("Baku", "Baku", 40.409, 49.867),),
    "MD": (("Chișinău", "Chișinău", 47.011, 28.864),),
    "BY": (("Minsk", "Minsk", 53.905, 27.559),),
    "RS": (("Belgrade", "Belgrade", 44.787, 20.457),),
    "ME": (("Podgorica", "Podgorica", 42.441, 19.263), ("Budva", "Budva", 42.286, 18.840)),
    "AL": (("Tirana", "Tirana County", 41.328, 19.819),),
    "XK": (("Pristina", "Pristina District", 42.663, 21.166),),
    "TH": (
        ("Bangkok", "Bangkok", 13.756, 100.502),
        ("Chiang Mai", "Chiang Mai", 18.788, 98.985),
        ("Mae Sot", "Tak", 16.713, 98.575),
    ),
    "MY": (("Kuala Lumpur", "Kuala Lumpur", 3.139, 101.687), ("Johor Bahru", "Johor", 1.492, 103.741)),
    "VN": (("Hanoi", "Hanoi", 21.028, 105.834), ("Ho Chi Minh City", "Ho Chi Minh City", 10.823, 106.630)),
    "KH": (("Phnom Penh", "Phnom Penh", 11.556, 104.928), ("Siem Reap", "Siem Reap", 13.362, 103.860)),
    "LA": (("Vientiane", "Vientiane Prefecture", 17.975, 102.633),),
    "ID": (("Jakarta", "Jakarta", -6.208, 106.846),),
    "NP": (("Kathmandu", "Bagmati", 27.717, 85.324),),
    "IN": (
        ("New Delhi", "Delhi", 28.614, 77.209),
        ("Kolkata", "West Bengal", 22.573, 88.364),
        ("Amritsar", "Punjab", 31.634, 74.872),
        ("Srinagar", "Jammu and Kashmir", 34.084, 74.797),
    ),
    "PK": (
        ("Islamabad", "Islamabad Capital Territory", 33.684, 73.048),
        ("Karachi", "Sindh", 24.861, 67.010),
        ("Lahore", "Punjab", 31.520, 74.359),
        ("Quetta", "Balochistan", 30.180, 66.975),
    ),
    "AF": (("Kabul", "Kabul", 34.555, 69.207),),
    "AE": (("Dubai", "Dubai", 25.205, 55.271), ("Abu Dhabi", "Abu Dhabi", 24.454, 54.377)),
    "SA": (("Riyadh", "Riyadh Province", 24.713, 46.675), ("Jeddah", "Makkah Province", 21.543, 39.173)),
    "QA": (("Doha", "Doha", 25.285, 51.531),),
    "KW": (("Kuwait City", "Al Asimah", 29.376, 47.977),),
    "IQ": (
        ("Erbil", "Erbil", 36.191, 44.009),
        ("Baghdad", "Baghdad", 33.315, 44.366),
        ("Sulaymaniyah", "Sulaymaniyah", 35.557, 45.435),
    ),
    "IR": (("Tehran", "Tehran", 35.689, 51.389), ("Sanandaj", "Kurdistan", 35.311, 46.996)),
    "LB": (("Beirut", "Beirut", 33.894, 35.502),),
    "JO": (("Amman", "Amman", 31.954, 35.911),),
    "IL": (("Tel Aviv", "Tel Aviv", 32.085, 34.782),),
    "EG": (("Cairo", "Cairo", 30.044, 31.236), ("Alexandria", "Alexandria", 31.200, 29.919)),
    "SD": (("Khartoum", "Khartoum", 15.500, 32.560),),
    "ET": (("Addis Ababa", "Addis Ababa", 9.030, 38.740),),
    "LY": (("Tripoli", "Tripoli", 32.887, 13.191),),
    "MA": (("Casablanca", "Casablanca-Settat", 33.573, -7.590), ("Rabat", "Rabat-Salé-Kénitra", 34.020, -6.841)),
    "KE": (("Nairobi", "Nairobi", -1.292, 36.822), ("Mombasa", "Mombasa", -4.043, 39.668)),
    "UG": (("Kampala", "Central Region", 0.348, 32.582),),
    "TZ": (("Dar es Salaam", "Dar es Salaam", -6.792, 39.208),),
    "ZA": (
        ("Johannesburg", "Gauteng", -26.204, 28.047),
        ("Cape Town", "Western Cape", -33.925, 18.424),
        ("Pretoria", "Gauteng", -25.747, 28.229),
    ),
    "MZ": (("Maputo", "Maputo City", -25.969, 32.573),),
    "MW": (("Lilongwe", "Central Region", -13.963, 33.775),),
    "CD": (("Kinshasa", "Kinshasa", -4.441, 15.266), ("Goma", "North Kivu", -1.679, 29.226)),
    "SS": (("Juba", "Central Equatoria", 4.859, 31.571),),
    "CR": (("San José", "San José Province", 9.928, -84.091),),
    "PA": (("Panama City", "Panamá Province", 8.983, -79.519),),
    "MX": (("Mexico City", "Mexico City", 19.433, -99.133),),
    "HN": (("Tegucigalpa", "Francisco Morazán", 14.072, -87.192),),
    "GT": (("Guatemala City", "Guatemala Department", 14.635, -90.507),),
    "SV": (("San Salvador", "San Salvador Department", 13.693, -89.218),),
    "CN": (
        ("Ürümqi", "Xinjiang", 43.825, 87.617),
        ("Beijing", "Beijing", 39.904, 116.407),
        ("Lhasa", "Tibet", 29.652, 91.172),
        ("Kashgar", "Xinjiang", 39.470, 75.990),
    ),
    "TJ": (("Dushanbe", "Dushanbe", 38.560, 68.787), ("Khorugh", "Gorno-Badakhshan", 37.489, 71.553)),
    "TM": (("Ashgabat", "Ashgabat", 37.960, 58.326),),
    "RW": (("Kigali", "Kigali", -1.944, 30.062),),
    "ER": (("Asmara", "Maekel", 15.322, 38.925),),
    "BH": (("Manama", "Capital Governorate", 26.228, 50.586),),
    "NI": (("Managua", "Managua", 12.115, -86.236),),
    "SY": (("Damascus", "Damascus", 33.513, 36.292), ("Qamishli", "Al-Hasakah", 37.052, 41.231)),
    "BD": (("Dhaka", "Dhaka Division", 23.810, 90.413),),
}

# Transit states for a second location of a removal: major hubs where exiles are stopped on the way.
TRANSIT_STATES = weights("TR 25 AE 20 QA 8 RS 6 GE 6 KZ 6 TH 8 MY 5 EG 5 UA 4 DE 4 PL 3")

# Country names as they read inside a sentence, where the ISO short name does not ("Russian Federation").
COUNTRY_TEXT: dict[str, str] = {
    "RU": "Russia",
    "CD": "the Democratic Republic of the Congo",
    "GB": "the United Kingdom",
    "US": "the United States",
    "NL": "the Netherlands",
    "AE": "the United Arab Emirates",
}


# Technical indicators of synthetic spyware and account-compromise incidents: only names and addresses reserved for
# documentation and testing (RFC 2606 example.com/.net/.org and .invalid, RFC 5737 192.0.2.0/24 and 198.51.100.0/24,
# RFC 3849 2001:db8::/32), and digests of fixed strings, so that no demo indicator can ever match a real one.
INDICATOR_SHARE = 0.6  # of the incidents with a digital tactic below
INDICATOR_TACTICS = frozenset({"spyware", "account_compromise"})
INDICATOR_DOMAINS = ("example.com", "example.net", "example.org", "update.invalid", "sms-link.invalid")
INDICATOR_WORDS = ("update", "login", "secure", "track", "news", "parcel", "verify", "account")
INDICATOR_IPV4_NETWORKS = ("192.0.2", "198.51.100")
INDICATOR_IPV6_NETWORK = "2001:db8"
INDICATOR_NOTES: dict[str, str] = {
    "domain-name": "Synthetic: domain the infected phone contacted, from a forensic check.",
    "url": "Synthetic: link sent to the target by text message.",
    "ipv4-addr": "Synthetic: server the implant reported to.",
    "ipv6-addr": "Synthetic: server the implant reported to.",
    "file-sha256": "Synthetic: file found on the phone in a forensic check.",
    "email-addr": "Synthetic: sender of a phishing e-mail.",
}

# Words for demo passwords and passphrases (demo nodes only; real accounts choose their own).
PASSWORD_WORDS: tuple[str, ...] = (
    "amber", "anchor", "apple", "arrow", "autumn", "badge", "basket", "beacon", "birch", "blanket", "bottle", "bridge",
    "button", "cabin", "candle", "canyon", "carpet", "castle", "cedar", "chalk", "cherry", "circle", "cliff", "cloud",
    "clover", "cobalt", "copper", "coral", "cotton", "crane", "crystal", "daisy", "delta", "desert", "dolphin", "dune",
    "eagle", "ember", "falcon", "feather", "fern", "fiddle", "flint", "forest", "fossil", "garden", "garnet", "glacier",
    "granite", "harbor", "hazel", "heron", "hollow", "honey", "island", "ivory", "jasmine", "juniper", "kettle",
    "lantern", "lemon", "linen", "lotus", "maple", "marble", "meadow", "mirror", "motor", "needle", "nutmeg", "oasis",
    "olive", "orbit", "orchid", "otter", "paddle", "panda", "pepper", "pebble", "pillow", "planet", "pocket", "poppy",
    "prairie", "quartz", "quill", "rabbit", "raven", "ribbon", "river", "rocket", "saddle", "salmon", "sapphire",
    "shadow", "silver", "spruce", "summit", "thistle", "timber", "tulip", "velvet", "walnut", "willow", "zephyr",
)  # fmt: skip
