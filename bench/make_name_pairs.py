"""Build the labelled evaluation set of name pairs for notice screening (tests/data/names.jsonl), deterministically.

    python bench/make_name_pairs.py            # writes tests/data/names.jsonl (seed 7)

Synthetic but real-looking persons from five naming traditions: Russian and Central Asian (Cyrillic), Arabic,
Persian, Chinese, Turkish. Each person has a native-script name; the Latin spellings are produced here, independently
of the matcher: Cyrillic through four romanisation systems (ICAO 9303 passports, BGN/PCGN, German Duden, French),
Arabic and Persian from lists of spellings seen in practice, Chinese as pinyin written in several ways, Turkish with
and without its letters and in English phonetic spelling. The matcher's variant file knows only some of these names.

True pairs (label 1): the same person in two scripts or two romanisations, with parts reordered, a forename reduced
to an initial, a typo, a patronymic or father's name dropped, a date of birth of lower precision (or a year off:
data errors happen), nationality or sex missing on one side.
Hard negatives (label 0): different persons with the same birth year and a shared or similar name: same surname and
another forename, a confusable forename (Mohammed/Mahmoud, Hassan/Hussein), a surname one letter away, brother and
sister, namesakes born in another year, namesakes born the same year on another day.

Each line: {"id", "category", "label", "a": side, "b": side}; side = {"name", "other_names", "date_of_birth"
("YYYY", "YYYY-MM" or "YYYY-MM-DD"), "dob_precision", "nationalities", "sex"}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "tests" / "data" / "names.jsonl"

# --- Cyrillic -------------------------------------------------------------------------------------------------
CYR_MALE = [
    "Юрий",
    "Александр",
    "Сергей",
    "Дмитрий",
    "Михаил",
    "Николай",
    "Андрей",
    "Евгений",
    "Владимир",
    "Алексей",
    "Игорь",
    "Олег",
    "Руслан",
    "Тимур",
    "Джамшид",
    "Бахтиёр",
    "Фарход",
    "Рустам",
    "Нурлан",
    "Ильхам",
    "Азамат",
    "Шамиль",
    "Магомед",
    "Ислам",
    "Ахмед",
    "Хусейн",
    "Зелимхан",
    "Бекзод",
    "Улугбек",
    "Дильшод",
    "Шухрат",
    "Анвар",
    "Умид",
    "Санжар",
    "Жасур",
    "Максим",
    "Артём",
    "Кирилл",
    "Вячеслав",
    "Григорий",
    "Павел",
    "Виктор",
    "Леонид",
    "Станислав",
    "Эльдар",
    "Ринат",
    "Арсен",
]
CYR_FEMALE = [
    "Гульнара",
    "Наталья",
    "Екатерина",
    "Татьяна",
    "Елена",
    "Ольга",
    "Мария",
    "Анна",
    "Юлия",
    "Ирина",
    "Светлана",
    "Дильноза",
    "Зарина",
    "Малика",
    "Мадина",
    "Айгуль",
    "Жанна",
    "Людмила",
    "Ксения",
    "Дарья",
    "Лейла",
    "Нигора",
    "Шахноза",
    "Феруза",
]
CYR_SURNAMES = [
    "Иванов",
    "Петров",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Волков",
    "Соловьёв",
    "Васильев",
    "Зайцев",
    "Павлов",
    "Семёнов",
    "Голубев",
    "Виноградов",
    "Богданов",
    "Воробьёв",
    "Каримов",
    "Юсупов",
    "Рахимов",
    "Хасанов",
    "Алиев",
    "Мамедов",
    "Исмаилов",
    "Назаров",
    "Тураев",
    "Усманов",
    "Абдуллаев",
    "Садыков",
    "Ахмедов",
    "Шарипов",
    "Кадыров",
    "Умаров",
    "Гусейнов",
    "Эргашев",
    "Холматов",
    "Жураев",
    "Мирзоев",
    "Сафаров",
    "Давлатов",
    "Рустамов",
    "Нуриддинов",
    "Щербаков",
    "Журавлёв",
    "Чернов",
    "Цветков",
    "Юдин",
    "Яковлев",
    "Ефимов",
    "Галиев",
    "Нуриев",
    "Хабибуллин",
]
CYR_SIMILAR_SURNAMES = {
    "Хасанов": "Хусанов",
    "Каримов": "Карилов",
    "Петров": "Петриков",
    "Юсупов": "Юсуфов",
    "Алиев": "Алимов",
    "Рахимов": "Рахмонов",
    "Назаров": "Назиров",
    "Умаров": "Умуров",
    "Садыков": "Содиков",
    "Соколов": "Сомов",
}
PATRONYMICS = (
    ("Сергеевич", "Сергеевна"),
    ("Александрович", "Александровна"),
    ("Иванович", "Ивановна"),
    ("Петрович", "Петровна"),
    ("Николаевич", "Николаевна"),
    ("Юрьевич", "Юрьевна"),
    ("Михайлович", "Михайловна"),
    ("Владимирович", "Владимировна"),
    ("Рустамович", "Рустамовна"),
    ("Каримович", "Каримовна"),
)
_CYR = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_SCHEMES: dict[str, list[str]] = {
    # one Latin string per letter of _CYR
    "icao": [
        "a",
        "b",
        "v",
        "g",
        "d",
        "e",
        "e",
        "zh",
        "z",
        "i",
        "i",
        "k",
        "l",
        "m",
        "n",
        "o",
        "p",
        "r",
        "s",
        "t",
        "u",
        "f",
        "kh",
        "ts",
        "ch",
        "sh",
        "shch",
        "ie",
        "y",
        "-",
        "e",
        "iu",
        "ia",
    ],
    "bgn": [
        "a",
        "b",
        "v",
        "g",
        "d",
        "ye",
        "yo",
        "zh",
        "z",
        "i",
        "y",
        "k",
        "l",
        "m",
        "n",
        "o",
        "p",
        "r",
        "s",
        "t",
        "u",
        "f",
        "kh",
        "ts",
        "ch",
        "sh",
        "shch",
        "-",
        "y",
        "-",
        "e",
        "yu",
        "ya",
    ],
    "german": [
        "a",
        "b",
        "w",
        "g",
        "d",
        "je",
        "jo",
        "sch",
        "s",
        "i",
        "j",
        "k",
        "l",
        "m",
        "n",
        "o",
        "p",
        "r",
        "s",
        "t",
        "u",
        "f",
        "ch",
        "z",
        "tsch",
        "sch",
        "schtsch",
        "-",
        "y",
        "-",
        "e",
        "ju",
        "ja",
    ],
    "french": [
        "a",
        "b",
        "v",
        "g",
        "d",
        "e",
        "io",
        "j",
        "z",
        "i",
        "i",
        "k",
        "l",
        "m",
        "n",
        "o",
        "p",
        "r",
        "s",
        "t",
        "ou",
        "f",
        "kh",
        "ts",
        "tch",
        "ch",
        "chtch",
        "-",
        "y",
        "-",
        "e",
        "iou",
        "ia",
    ],
}


def romanise_cyrillic(text: str, scheme: str) -> str:
    table = dict(zip(_CYR, _SCHEMES[scheme], strict=True))
    out = []
    for ch in text:
        lower = ch.lower()
        if lower in table:
            latin = table[lower].replace("-", "")
            # BGN and German write the Cyrillic e and yo with a glide (ye, je) only after a vowel or at the start
            after_consonant = bool(out) and out[-1][-1:].lower() not in " aeiouyj'"
            if scheme in ("bgn", "german") and lower in "её" and after_consonant:
                latin = {"е": "e", "ё": "o" if scheme == "german" else "ë"}[lower].replace("ë", "e")
            out.append(latin.capitalize() if ch != lower else latin)
        else:
            out.append(ch)
    return "".join(out)


# --- Arabic and Persian: native spelling, Latin spellings seen in practice ------------------------------------
ARABIC_MALE = {
    "محمد": ["Mohammed", "Muhammad", "Mohamed", "Mohamad"],
    "أحمد": ["Ahmed", "Ahmad"],
    "علي": ["Ali"],
    "حسن": ["Hassan", "Hasan"],
    "حسين": ["Hussein", "Husain", "Hussain"],
    "عمر": ["Omar", "Umar"],
    "خالد": ["Khaled", "Khalid"],
    "يوسف": ["Youssef", "Yousef", "Yusuf"],
    "إبراهيم": ["Ibrahim"],
    "عبد الله": ["Abdullah", "Abdallah", "Abd Allah"],
    "عبد الرحمن": ["Abdelrahman", "Abdul Rahman", "Abdurrahman", "Abd al-Rahman"],
    "سعيد": ["Said", "Saeed", "Saied"],
    "مصطفى": ["Mustafa", "Mostafa"],
    "طارق": ["Tariq", "Tarek", "Tarik"],
    "فيصل": ["Faisal", "Faysal", "Fayssal"],
    "ماجد": ["Majid", "Majed"],
    "ناصر": ["Nasser", "Nasir", "Naser"],
    "سليمان": ["Sulaiman", "Suleiman", "Soliman"],
    "جمال": ["Jamal", "Gamal", "Djamel"],
    "كريم": ["Karim", "Kareem"],
    "رامي": ["Rami", "Ramy"],
    "وليد": ["Walid", "Waleed"],
    "هشام": ["Hisham", "Hicham"],
    "عادل": ["Adel", "Adil"],
    "زياد": ["Ziad", "Ziyad"],
    "بلال": ["Bilal", "Belal"],
    "حمزة": ["Hamza", "Hamzah"],
    "أنس": ["Anas"],
    "منصور": ["Mansour", "Mansur"],
    "محمود": ["Mahmoud", "Mahmud"],
    "إسماعيل": ["Ismail", "Ismael"],
}
ARABIC_FEMALE = {
    "فاطمة": ["Fatima", "Fatma", "Fatimah"],
    "مريم": ["Maryam", "Mariam"],
    "عائشة": ["Aisha", "Aicha", "Ayesha"],
    "زينب": ["Zainab", "Zeinab", "Zaynab"],
    "نور": ["Nour", "Noor", "Nur"],
    "سارة": ["Sara", "Sarah"],
    "ليلى": ["Layla", "Leila", "Laila"],
    "هدى": ["Huda", "Houda", "Hoda"],
    "أمل": ["Amal"],
    "رانيا": ["Rania", "Ranya"],
    "سلمى": ["Salma"],
    "ياسمين": ["Yasmin", "Yasmine", "Jasmin"],
    "خديجة": ["Khadija", "Khadidja", "Khadijah"],
    "إيمان": ["Iman", "Eman"],
}
ARABIC_FAMILY = {
    "الرشيد": ["al-Rashid", "Al Rashid", "Alrashid", "el-Rachid"],
    "العتيبي": ["Al-Otaibi", "Alotaibi", "al-Utaybi"],
    "القحطاني": ["Al-Qahtani", "Alqahtani", "al-Kahtani"],
    "الحربي": ["Al-Harbi", "Alharbi"],
    "الشمري": ["Al-Shammari", "Alshammari", "al-Shamari"],
    "المصري": ["El-Masry", "Al-Masri", "Elmasry"],
    "حداد": ["Haddad", "Hadad"],
    "خليل": ["Khalil", "Halil"],
    "سليم": ["Salim", "Saleem", "Selim"],
    "حمدان": ["Hamdan"],
    "الخطيب": ["Al-Khatib", "El Khatib", "Alkhatib"],
    "النجار": ["Al-Najjar", "El-Naggar", "Alnajjar"],
    "صالح": ["Saleh", "Salih"],
    "عثمان": ["Othman", "Osman", "Uthman"],
    "الزهراني": ["Al-Zahrani", "Alzahrani"],
    "الحسيني": ["Al-Husseini", "El Husseini"],
    "قاسم": ["Qasim", "Kassem", "Qassem"],
    "عيسى": ["Issa", "Eissa", "Isa"],
    "درويش": ["Darwish", "Darwiche"],
    "الأحمد": ["Al-Ahmad", "Alahmad"],
    "البغدادي": ["Al-Baghdadi", "el-Baghdadi"],
    "التميمي": ["Al-Tamimi", "Altamimi", "at-Tamimi"],
    "الجبوري": ["Al-Jubouri", "Al-Juburi", "Aljbouri"],
}
ARABIC_CONFUSABLE = {"محمد": "محمود", "حسن": "حسين", "سعيد": "سعد", "خالد": "خليل", "كريم": "كمال", "عمر": "عمار"}
ARABIC_MALE.update(
    {"سعد": ["Saad", "Sa'ad"], "كمال": ["Kamal", "Kemal"], "عمار": ["Ammar", "Amar"], "خليل": ["Khalil", "Halil"]}
)

PERSIAN_MALE = {
    "محمد": ["Mohammad", "Mohamad"],
    "علی": ["Ali"],
    "رضا": ["Reza"],
    "حسین": ["Hossein", "Hosein", "Hussein"],
    "مهدی": ["Mehdi", "Mahdi"],
    "امیر": ["Amir"],
    "سعید": ["Saeed", "Saeid", "Said"],
    "حمید": ["Hamid"],
    "مجید": ["Majid"],
    "محمدرضا": ["Mohammadreza", "Mohammad Reza", "Mohammad-Reza"],
    "امیرحسین": ["Amirhossein", "Amir Hossein", "Amir-Hossein"],
    "داریوش": ["Dariush", "Daryoush", "Dariusch"],
    "کوروش": ["Kourosh", "Kurosh", "Koorosh"],
    "بابک": ["Babak"],
    "فرهاد": ["Farhad"],
    "سیامک": ["Siamak"],
    "پژمان": ["Pezhman", "Pejman"],
    "جواد": ["Javad", "Djavad"],
    "بهروز": ["Behrouz", "Behruz", "Behrooz"],
}
PERSIAN_FEMALE = {
    "نرگس": ["Narges"],
    "مریم": ["Maryam"],
    "زهرا": ["Zahra"],
    "فاطمه": ["Fatemeh", "Fateme", "Fatima"],
    "سارا": ["Sara"],
    "نسرین": ["Nasrin"],
    "شیرین": ["Shirin", "Sheerin"],
    "پروین": ["Parvin"],
    "نازنین": ["Nazanin"],
    "بهاره": ["Bahareh", "Bahare"],
    "آزاده": ["Azadeh", "Azade"],
    "نیلوفر": ["Niloufar", "Nilufar", "Niloofar"],
    "گلاره": ["Golareh", "Golare"],
    "مهسا": ["Mahsa"],
}
PERSIAN_FAMILY = {
    "رضایی": ["Rezaei", "Rezaee", "Rezaie"],
    "حسینی": ["Hosseini", "Hoseini"],
    "محمدی": ["Mohammadi", "Mohamadi"],
    "کریمی": ["Karimi"],
    "احمدی": ["Ahmadi"],
    "موسوی": ["Mousavi", "Musavi", "Moosavi"],
    "جعفری": ["Jafari", "Jaafari"],
    "قاسمی": ["Ghasemi", "Qasemi", "Ghassemi"],
    "رحیمی": ["Rahimi"],
    "صادقی": ["Sadeghi", "Sadeqi"],
    "کاظمی": ["Kazemi"],
    "نوری": ["Nouri", "Noori"],
    "عباسی": ["Abbasi"],
    "طاهری": ["Taheri"],
    "شریفی": ["Sharifi"],
    "زارعی": ["Zarei", "Zareie"],
    "حسین‌زاده": ["Hosseinzadeh", "Hossein-Zadeh", "Hoseinzade"],
    "اکبری": ["Akbari"],
    "سلطانی": ["Soltani"],
    "تهرانی": ["Tehrani"],
    "نجفی": ["Najafi"],
    "یزدانی": ["Yazdani"],
    "افشار": ["Afshar"],
    "بهرامی": ["Bahrami"],
    "فرهادی": ["Farhadi"],
}
PERSIAN_CONFUSABLE = {"محمد": "مهدی", "مجید": "حمید", "سعید": "مجید", "امیر": "امیرحسین"}

# --- Chinese --------------------------------------------------------------------------------------------------
HAN_SURNAMES = dict(
    zip(
        "王李张刘陈杨黄赵吴周孙马朱胡郭何林高罗郑梁谢宋唐韩冯邓曹",
        [
            "Wang",
            "Li",
            "Zhang",
            "Liu",
            "Chen",
            "Yang",
            "Huang",
            "Zhao",
            "Wu",
            "Zhou",
            "Sun",
            "Ma",
            "Zhu",
            "Hu",
            "Guo",
            "He",
            "Lin",
            "Gao",
            "Luo",
            "Zheng",
            "Liang",
            "Xie",
            "Song",
            "Tang",
            "Han",
            "Feng",
            "Deng",
            "Cao",
        ],
        strict=True,
    )
)
HAN_GIVEN = dict(
    zip(
        "小明伟芳娜敏静强磊军勇杰涛超秀霞平刚英华文建国志海红玉兰晓东斌辉鹏飞春",
        [
            "xiao",
            "ming",
            "wei",
            "fang",
            "na",
            "min",
            "jing",
            "qiang",
            "lei",
            "jun",
            "yong",
            "jie",
            "tao",
            "chao",
            "xiu",
            "xia",
            "ping",
            "gang",
            "ying",
            "hua",
            "wen",
            "jian",
            "guo",
            "zhi",
            "hai",
            "hong",
            "yu",
            "lan",
            "xiao",
            "dong",
            "bin",
            "hui",
            "peng",
            "fei",
            "chun",
        ],
        strict=True,
    )
)

# --- Turkish --------------------------------------------------------------------------------------------------
TR_MALE = [
    "Mehmet",
    "Ahmet",
    "Mustafa",
    "Ali",
    "Hüseyin",
    "Hasan",
    "İbrahim",
    "İsmail",
    "Osman",
    "Yusuf",
    "Murat",
    "Ömer",
    "Ramazan",
    "Halil",
    "Süleyman",
    "Abdullah",
    "Mahmut",
    "Recep",
    "Kadir",
    "Emre",
    "Burak",
    "Çağlar",
    "Gökhan",
    "Uğur",
    "Şükrü",
    "Emir",
    "Mert",
]
TR_FEMALE = [
    "Ayşe",
    "Fatma",
    "Emine",
    "Hatice",
    "Zeynep",
    "Elif",
    "Meryem",
    "Şerife",
    "Zehra",
    "Özlem",
    "Gülşen",
    "Şule",
    "Büşra",
    "Tuğba",
    "Nur",
]
TR_SURNAMES = [
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Yıldız",
    "Yıldırım",
    "Öztürk",
    "Aydın",
    "Özdemir",
    "Arslan",
    "Doğan",
    "Kılıç",
    "Aslan",
    "Çetin",
    "Kara",
    "Koç",
    "Kurt",
    "Özkan",
    "Şimşek",
    "Polat",
    "Özer",
    "Güneş",
    "Erdoğan",
    "Aktaş",
    "Karaoğlu",
    "Işık",
    "Bulut",
    "Güler",
    "Taş",
]
TR_CONFUSABLE = {"Mehmet": "Mahmut", "Hasan": "Hüseyin", "Ahmet": "Mehmet", "Emre": "Emir", "Murat": "Mert"}
_TR_ASCII = str.maketrans("ıİşŞğĞçÇöÖüÜ", "iIsSgGcCoOuU")
_TR_ENGLISH = (
    ("c", "j"),
    ("C", "J"),
    ("ş", "sh"),
    ("Ş", "Sh"),
    ("ç", "ch"),
    ("Ç", "Ch"),
    ("ğ", ""),
    ("ı", "i"),
    ("İ", "I"),
    ("ö", "o"),
    ("Ö", "O"),
    ("ü", "u"),
    ("Ü", "U"),
)
_TR_GERMAN = (
    ("ş", "sch"),
    ("Ş", "Sch"),
    ("ç", "tsch"),
    ("Ç", "Tsch"),
    ("ğ", "g"),
    ("ı", "i"),
    ("İ", "I"),
    ("ö", "oe"),
    ("Ö", "Oe"),
    ("ü", "ue"),
    ("Ü", "Ue"),
)


def turkish_spelling(text: str, style: str) -> str:
    if style == "native":
        return text
    if style == "ascii":
        return text.translate(_TR_ASCII)
    for old, new in _TR_ENGLISH if style == "english" else _TR_GERMAN:
        text = text.replace(old, new)
    return text


# --- persons and sides ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    culture: str
    sex: str
    forename: str  # native script
    surname: str  # native script
    middle: str  # patronymic or father's name, native script ("" when none)
    dob: dt.date
    nationality: str


@dataclass(frozen=True)
class Side:
    name: str
    other_names: tuple[str, ...]
    date_of_birth: str
    dob_precision: str
    nationalities: tuple[str, ...]
    sex: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "other_names": list(self.other_names),
            "date_of_birth": self.date_of_birth,
            "dob_precision": self.dob_precision,
            "nationalities": list(self.nationalities),
            "sex": self.sex,
        }


NATIONALITY = {
    "cyrillic": ("RU", "UZ", "TJ", "KZ"),
    "arabic": ("SA", "EG", "SY", "IQ"),
    "persian": ("IR",),
    "chinese": ("CN",),
    "turkish": ("TR",),
}
CULTURES = tuple(NATIONALITY)


def random_dob(rng: random.Random) -> dt.date:
    return dt.date(rng.randint(1955, 2003), 1, 1) + dt.timedelta(days=rng.randint(0, 364))


def new_person(rng: random.Random, culture: str, sex: str | None = None, dob: dt.date | None = None) -> Person:
    sex = sex or rng.choice("MF")
    dob = dob or random_dob(rng)
    nationality = rng.choice(NATIONALITY[culture])
    if culture == "cyrillic":
        forename = rng.choice(CYR_MALE if sex == "M" else CYR_FEMALE)
        surname = rng.choice(CYR_SURNAMES)
        middle = rng.choice(PATRONYMICS)[0 if sex == "M" else 1]
    elif culture == "arabic":
        forename = rng.choice(sorted(ARABIC_MALE if sex == "M" else ARABIC_FEMALE))
        surname = rng.choice(sorted(ARABIC_FAMILY))
        middle = rng.choice(sorted(ARABIC_MALE)) if rng.random() < 0.5 else ""
    elif culture == "persian":
        forename = rng.choice(sorted(PERSIAN_MALE if sex == "M" else PERSIAN_FEMALE))
        surname = rng.choice(sorted(PERSIAN_FAMILY))
        middle = ""
    elif culture == "chinese":
        surname = rng.choice(sorted(HAN_SURNAMES))
        forename = "".join(rng.sample(sorted(HAN_GIVEN), rng.choice((1, 2, 2))))
        middle = ""
    else:
        forename = rng.choice(TR_MALE if sex == "M" else TR_FEMALE)
        surname = rng.choice(TR_SURNAMES)
        middle = ""
    return Person(culture, sex, forename, surname, middle, dob, nationality)


def cyr_surname(person: Person, surname: str | None = None) -> str:
    surname = surname or person.surname
    if person.sex == "F" and surname.endswith(("ов", "ев", "ёв", "ин")):
        return surname + "а"
    return surname


def native_name(person: Person, *, with_middle: bool = True) -> str:
    """The name as written in the person's own script."""
    if person.culture == "cyrillic":
        middle = f" {person.middle}" if with_middle else ""
        return f"{person.forename}{middle} {cyr_surname(person)}"
    if person.culture == "chinese":
        return person.surname + person.forename
    middle = f" {person.middle}" if with_middle and person.middle else ""
    return f"{person.forename}{middle} {person.surname}"


def latin_parts(person: Person, rng: random.Random) -> tuple[str, str, str]:
    """Forename, father's name/patronymic, surname in one Latin spelling chosen at random."""
    if person.culture == "cyrillic":
        scheme = rng.choice(sorted(_SCHEMES))
        return (
            romanise_cyrillic(person.forename, scheme),
            romanise_cyrillic(person.middle, scheme),
            romanise_cyrillic(cyr_surname(person), scheme),
        )
    if person.culture in ("arabic", "persian"):
        male, female, family = (
            (ARABIC_MALE, ARABIC_FEMALE, ARABIC_FAMILY)
            if person.culture == "arabic"
            else (PERSIAN_MALE, PERSIAN_FEMALE, PERSIAN_FAMILY)
        )
        forenames = male if person.sex == "M" else female
        middle = rng.choice(ARABIC_MALE[person.middle]) if person.middle else ""
        return rng.choice(forenames[person.forename]), middle, rng.choice(family[person.surname])
    if person.culture == "chinese":
        syllables = [HAN_GIVEN[ch] for ch in person.forename]
        style = rng.choice(("joined", "joined", "spaced", "hyphen"))
        if style == "joined":
            given = "".join(syllables).capitalize()
        elif style == "spaced":
            given = " ".join(s.capitalize() for s in syllables)
        else:
            given = "-".join(syllables).capitalize()
        return given, "", HAN_SURNAMES[person.surname]
    style = rng.choice(("native", "ascii", "ascii", "english", "german"))
    return turkish_spelling(person.forename, style), "", turkish_spelling(person.surname, style)


def latin_name(person: Person, rng: random.Random, *, with_middle: bool = False, surname_first: bool = False) -> str:
    forename, middle, surname = latin_parts(person, rng)
    if surname_first:
        surname = surname.upper() if rng.random() < 0.5 else surname
        return " ".join(p for p in (surname, forename, middle if with_middle else "") if p)
    return " ".join(p for p in (forename, middle if with_middle else "", surname) if p)


def typo(text: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(text) if ch.isalpha() and i > 0]
    i = rng.choice(letters)
    kind = rng.choice(("swap", "drop", "replace", "double"))
    if kind == "swap" and i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + rng.choice("aeioulnrst") + text[i + 1 :]


def side(
    rng: random.Random,
    person: Person,
    name: str,
    *,
    precision: str = "day",
    dob: dt.date | None = None,
    keep_nationality: float = 0.7,
    keep_sex: float = 0.8,
    other_names: tuple[str, ...] = (),
) -> Side:
    date = dob or person.dob
    text = {"day": date.isoformat(), "month": date.isoformat()[:7], "year": str(date.year)}[precision]
    return Side(
        name=name,
        other_names=other_names,
        date_of_birth=text,
        dob_precision=precision,
        nationalities=(person.nationality,) if rng.random() < keep_nationality else (),
        sex=person.sex if rng.random() < keep_sex else None,
    )


def notice_side(rng: random.Random, person: Person, name: str) -> Side:
    """A notice's side: Latin name, sometimes a coarser date of birth."""
    precision = rng.choices(("day", "month", "year"), weights=(6, 1, 3))[0]
    return side(rng, person, name, precision=precision)


# --- true pairs -----------------------------------------------------------------------------------------------
Pair = tuple[str, int, Side, Side]


def true_script(rng: random.Random, culture: str) -> Pair:
    person = new_person(rng, culture)
    a = side(rng, person, native_name(person, with_middle=rng.random() < 0.7))
    b = notice_side(rng, person, latin_name(person, rng, with_middle=rng.random() < 0.3))
    return f"true_{culture}_script", 1, a, b


def true_romanisation(rng: random.Random) -> Pair:
    person = new_person(rng, rng.choice(("cyrillic", "arabic", "persian", "turkish")))
    a = side(rng, person, latin_name(person, rng))
    b = notice_side(rng, person, latin_name(person, rng, with_middle=rng.random() < 0.3))
    return "true_romanisation", 1, a, b


def true_reordered(rng: random.Random) -> Pair:
    person = new_person(rng, rng.choice(CULTURES))
    a = side(rng, person, native_name(person) if rng.random() < 0.5 else latin_name(person, rng))
    b = notice_side(rng, person, latin_name(person, rng, surname_first=True))
    return "true_reordered", 1, a, b


def true_initials(rng: random.Random) -> Pair:
    person = new_person(rng, rng.choice(("cyrillic", "arabic", "persian", "turkish")))
    forename, _, surname = latin_parts(person, rng)
    a = side(rng, person, latin_name(person, rng))
    b = side(rng, person, f"{forename[0]}. {surname}")
    return "true_initials", 1, a, b


def true_typo(rng: random.Random) -> Pair:
    person = new_person(rng, rng.choice(CULTURES))
    forename, _, surname = latin_parts(person, rng)
    if rng.random() < 0.5:
        surname = typo(surname, rng)
    else:
        forename = typo(forename, rng)
    a = side(rng, person, native_name(person) if rng.random() < 0.5 else latin_name(person, rng))
    b = notice_side(rng, person, f"{forename} {surname}")
    return "true_typo", 1, a, b


def true_dob_noise(rng: random.Random) -> Pair:
    person = new_person(rng, rng.choice(CULTURES))
    a = side(rng, person, native_name(person))
    shifted = person.dob.replace(year=person.dob.year + rng.choice((-1, 1))) if person.dob.day < 29 else person.dob
    kind = rng.random()
    if kind < 0.4:
        b = side(rng, person, latin_name(person, rng), precision="year")
    elif kind < 0.7:
        b = side(rng, person, latin_name(person, rng), dob=shifted)
    else:
        swapped = person.dob.replace(month=person.dob.day, day=person.dob.month) if person.dob.day <= 12 else shifted
        b = side(rng, person, latin_name(person, rng), dob=swapped)
    return "true_dob_imprecise", 1, a, b


def true_aliases(rng: random.Random) -> Pair:
    person = new_person(rng, rng.choice(CULTURES))
    a = side(rng, person, latin_name(person, rng), other_names=(native_name(person),))
    b = notice_side(rng, person, latin_name(person, rng, surname_first=rng.random() < 0.5))
    return "true_other_names", 1, a, b


# --- hard negatives -------------------------------------------------------------------------------------------
def _same_year(rng: random.Random, person: Person) -> dt.date:
    other = random_dob(rng)
    return other.replace(year=person.dob.year) if not (other.month == 2 and other.day == 29) else other


def _pick_name(rng: random.Random, person: Person) -> str:
    return native_name(person, with_middle=False) if rng.random() < 0.4 else latin_name(person, rng)


def negative_same_surname(rng: random.Random) -> Pair:
    culture = rng.choice(CULTURES)
    first = new_person(rng, culture)
    second = new_person(rng, culture, sex=first.sex, dob=_same_year(rng, first))
    while second.forename == first.forename:
        second = new_person(rng, culture, sex=first.sex, dob=second.dob)
    second = replace(second, surname=first.surname, nationality=first.nationality)
    return (
        "negative_same_surname",
        0,
        side(rng, first, _pick_name(rng, first)),
        notice_side(rng, second, latin_name(second, rng)),
    )


def negative_confusable_forename(rng: random.Random) -> Pair:
    culture = rng.choice(("arabic", "persian", "turkish"))
    table = {"arabic": ARABIC_CONFUSABLE, "persian": PERSIAN_CONFUSABLE, "turkish": TR_CONFUSABLE}[culture]
    first = new_person(rng, culture, sex="M")
    forename = rng.choice(sorted(table))
    first = replace(first, forename=forename)
    second = replace(first, forename=table[forename], dob=_same_year(rng, first), middle="")
    return (
        "negative_confusable_forename",
        0,
        side(rng, first, _pick_name(rng, first)),
        notice_side(rng, second, latin_name(second, rng)),
    )


def _similar_surname(person: Person) -> str:
    if person.culture == "cyrillic":
        return CYR_SIMILAR_SURNAMES.get(person.surname, person.surname[:-2] + "ин")
    return person.surname


def negative_similar_surname(rng: random.Random) -> Pair:
    first = new_person(rng, "cyrillic")
    first = replace(first, surname=rng.choice(sorted(CYR_SIMILAR_SURNAMES)))
    second = replace(first, surname=_similar_surname(first), dob=_same_year(rng, first))
    return (
        "negative_similar_surname",
        0,
        side(rng, first, _pick_name(rng, first)),
        notice_side(rng, second, latin_name(second, rng)),
    )


def negative_sibling(rng: random.Random) -> Pair:
    culture = rng.choice(CULTURES)
    first = new_person(rng, culture, sex="M")
    second = new_person(rng, culture, sex="F", dob=_same_year(rng, first))
    second = replace(second, surname=first.surname, middle=first.middle, nationality=first.nationality)
    a = side(rng, first, _pick_name(rng, first), keep_sex=1.0)
    b = side(rng, second, latin_name(second, rng), keep_sex=1.0)
    return "negative_sibling", 0, a, b


def negative_namesake_other_year(rng: random.Random) -> Pair:
    first = new_person(rng, rng.choice(CULTURES))
    year = first.dob.year + rng.choice((-1, 1)) * rng.randint(2, 20)
    second = replace(first, dob=random_dob(rng).replace(year=year) if first.dob.month != 2 else first.dob)
    if second.dob.year == first.dob.year:
        second = replace(second, dob=dt.date(first.dob.year + 7, 3, 3))
    return (
        "negative_namesake_other_year",
        0,
        side(rng, first, _pick_name(rng, first)),
        side(rng, second, latin_name(second, rng)),
    )


def negative_namesake_same_year(rng: random.Random) -> Pair:
    first = new_person(rng, rng.choice(CULTURES))
    other = _same_year(rng, first)
    while other.month == first.dob.month:
        other = _same_year(rng, first)
    second = replace(first, dob=other)
    return (
        "negative_namesake_same_year_other_day",
        0,
        side(rng, first, _pick_name(rng, first)),
        side(rng, second, latin_name(second, rng)),
    )


def negative_other_person_same_year(rng: random.Random) -> Pair:
    culture = rng.choice(CULTURES)
    first = new_person(rng, culture)
    second = new_person(rng, culture, sex=first.sex, dob=_same_year(rng, first))
    if first.culture == "chinese":  # the same given name, another surname
        second = replace(second, forename=first.forename)
    else:
        second = replace(second, forename=first.forename) if rng.random() < 0.5 else second
    if second.surname == first.surname:
        return negative_other_person_same_year(rng)
    return (
        "negative_same_forename_same_year",
        0,
        side(rng, first, _pick_name(rng, first)),
        notice_side(rng, second, latin_name(second, rng)),
    )


GENERATORS: tuple[tuple[Callable[[random.Random], Pair], int], ...] = (
    (lambda rng: true_script(rng, "cyrillic"), 90),
    (lambda rng: true_script(rng, "arabic"), 80),
    (lambda rng: true_script(rng, "persian"), 70),
    (lambda rng: true_script(rng, "chinese"), 70),
    (lambda rng: true_script(rng, "turkish"), 50),
    (true_romanisation, 60),
    (true_reordered, 50),
    (true_initials, 40),
    (true_typo, 60),
    (true_dob_noise, 60),
    (true_aliases, 30),
    (negative_same_surname, 140),
    (negative_confusable_forename, 90),
    (negative_similar_surname, 60),
    (negative_sibling, 80),
    (negative_namesake_other_year, 90),
    (negative_namesake_same_year, 80),
    (negative_other_person_same_year, 120),
)


def build(seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for generator, count in GENERATORS:
        for _ in range(count):
            category, label, a, b = generator(rng)
            if rng.random() < 0.5:
                a, b = b, a
            rows.append({"id": len(rows) + 1, "category": category, "label": label, "a": a.as_json(), "b": b.as_json()})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    rows = build(args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    positives = sum(1 for row in rows if row["label"] == 1)
    print(f"wrote {len(rows)} pairs ({positives} true, {len(rows) - positives} negative) to {args.output}")


if __name__ == "__main__":
    main()
