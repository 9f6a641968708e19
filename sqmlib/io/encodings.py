"""Which text encoding a file is in: UTF-8, else the legacy East Asian encoding (Korean CP949, Simplified
Chinese GB18030, Traditional Chinese Big5/CP950, Japanese Shift-JIS/CP932) whose reading is made of the
characters common in its language."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..errors import Problem, SQMDataError

# The most frequent Hangul syllables of Korean text (with the particles and endings every sentence has) and
# charset-normalizer's list of the most frequent hanzi: a reading in which the characters are mostly common ones
# is the right one. Korean bytes read as GB18030 give hanzi spread evenly over the ~3,800 common ones (about
# 13 % of them among the 500 most frequent); Chinese bytes read as CP949 give rare syllables such as 빽굇.
COMMON_HANGUL = set(
    "이다는의에하고을가지한기로서리대사도자를시어인으수아나있정일게적그전들해상보과주부것요라만장성문우동국여"
    "공제유원면소화스위내연구경방신비개조세발선관계진물생실중할무용회했결후없분통미되된간학재말식안모업단당때"
    "저반입명체래및까야오마차거금행불외현같각민드운심점산감터작히표력데형품교호설트받약치양질예급역등년월날본"
    "번님께든록며므던려겠습니죠네함합십니까십시오않는편리족매렇직원객친절빠르확신뢰응답키크템필수택결제"
    "남녀별령세대학생회원기타지역울경북강충전광천산도군구읍면동층자주가끔거의항상혀보통그렇아니매우"
    "좋싫쉽어렵느린만족불중요음기대인지설문사용이용서비스거래정보화면선택입력처리과정시간안전개인출노험위원"
)
try:
    from charset_normalizer.constant import COMMON_CHINESE_CHARACTERS as _COMMON_HANZI
except ImportError:  # pragma: no cover
    _COMMON_HANZI = "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后"
COMMON_HANZI = set(_COMMON_HANZI) | set("华北南东西区省市店员工服务满意期望感知客户顾企业质量")
# frequent Traditional forms (the frequent characters written alike in both scripts are in the list above)
COMMON_TRADITIONAL = set(
    "們這個來時會為說國對開關麼還後發問題經過點實體務員網頁買賣從樣號門電話請謝滿與與應該當讓覺們們這裡邊並"
    "機構業產質處區東車學習現見長張場們間頭無種單義專當聽論歷變給錢飯館餐廳廠鐘價費帳戶資訊層級態度環境衛準時"
    "務櫃檯臺灣臺北華東區齊應紀錄線訂購貨運遞們們")
try:
    from charset_normalizer.constant import COMMON_JAPANESE_CHARACTERS as _COMMON_KANJI
except ImportError:  # pragma: no cover
    _COMMON_KANJI = "日一国年大十二本中長出三時行見月分後前生五間上東四今金九入学高円子外八六下来気小"
COMMON_KANJI = set(_COMMON_KANJI)
CANDIDATES = ("cp949", "gb18030", "big5", "cp932")  # tried in this order; the text decides between them
LANGUAGE = {"cp949": "Korean", "gb18030": "Simplified Chinese", "big5": "Traditional Chinese", "cp932": "Japanese"}
AMBIGUOUS_MARGIN = 0.25  # the better reading must have this much larger a share of common characters


def _kind(o: int) -> str:
    """The kind of an East Asian character: hangul, hanzi, kana, or odd (box drawing, private use, half-width
    kana: what a wrong reading produces); "" for anything else."""
    if 0xAC00 <= o <= 0xD7A3:
        return "hangul"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
        return "hanzi"
    if 0x3040 <= o <= 0x30FF:
        return "kana"
    if 0x2500 <= o <= 0x257F or 0xE000 <= o <= 0xF8FF or 0xFF61 <= o <= 0xFF9F:
        return "odd"
    return ""


def _common_share(text: str, encoding: str) -> float:
    """Share of the East Asian characters of a reading that are common in the language the encoding implies
    (frequent Hangul syllables for CP949, frequent hanzi for the Chinese encodings, kana and frequent kanji for
    CP932); characters that do not belong to the language (kana or box drawing in Chinese, hanzi in Korean
    text) count against it. 0 when the reading has no such character."""
    total = hits = 0
    for ch in text:
        kind = _kind(ord(ch))
        if not kind:
            continue
        total += 1
        if encoding == "cp949":
            hits += kind == "hangul" and ch in COMMON_HANGUL
        elif encoding == "cp932":
            hits += kind == "kana" or (kind == "hanzi" and ch in COMMON_KANJI)
        else:
            hits += kind == "hanzi" and (ch in COMMON_HANZI or (encoding == "big5" and ch in COMMON_TRADITIONAL))
    return hits / total if total else 0.0


class AmbiguousEncoding(UnicodeError):
    """The bytes read as both Korean and Chinese and the text does not say which: ``readings`` maps each
    encoding to a sample line in that reading."""

    def __init__(self, readings: Mapping[str, str]):
        self.readings = dict(readings)
        shown = "; ".join(f"as {LANGUAGE.get(e, e)} ({e.upper()}): {line!r}" for e, line in self.readings.items())
        first = next(iter(self.readings), "gb18030")
        super().__init__(f"the text reads in {len(self.readings)} encodings and they cannot be told apart "
                         f"({shown}); pass the right one, e.g. --encoding {first} or encoding: {first} in the "
                         "instrument file")


def _sample_line(text: str) -> str:
    """The first line with non-ASCII text (cut to 60 characters), for showing a reading."""
    for line in text.splitlines():
        if any(ord(c) > 127 for c in line):
            return line.strip()[:60]
    return text.strip().splitlines()[0][:60] if text.strip() else ""


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 written without its byte-order mark (some Windows exports): Latin text then has a zero byte in
    every other position; the side the zeros are on gives the byte order."""
    head = raw[:4096]
    if len(head) < 8 or head.count(0) < len(head) // 4:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 0.6 * len(head[1::2]) and even < 0.1 * len(head[0::2]):
        enc = "utf-16-le"
    elif even > 0.6 * len(head[0::2]) and odd < 0.1 * len(head[1::2]):
        enc = "utf-16-be"
    else:
        return None
    try:
        raw[: len(raw) - len(raw) % 2].decode(enc)
    except UnicodeDecodeError:
        return None
    return enc


def detect_encoding(raw: bytes) -> str:
    """Guess the encoding of a CSV file's bytes.

    UTF-8 (with or without BOM) and UTF-16 (with a BOM, or without one when every other byte of Latin text is
    zero) first; otherwise CP949 (Korean), GB18030 (Simplified Chinese, a superset of
    GBK and GB2312), Big5 (Traditional Chinese) or CP932 (Japanese Shift-JIS). Their byte ranges overlap, so
    text often decodes in several; the text itself decides: the reading whose characters are mostly common
    ones in its language (:func:`_common_share`) wins by at least ``AMBIGUOUS_MARGIN``.

    Raises
    ------
    AmbiguousEncoding
        Both readings are about as plausible (a sample line of each is in the message).
    UnicodeError
        If the bytes decode as none of them.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sixteen = _utf16_without_bom(raw)
    if sixteen:
        return sixteen
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    decoded = {}
    for enc in CANDIDATES:
        try:
            decoded[enc] = raw.decode(enc)
        except UnicodeDecodeError:
            pass
    if not decoded:
        raise UnicodeError("the file is not UTF-8, GB18030/GBK, Big5, Shift-JIS or CP949")
    if len(decoded) == 1:
        return next(iter(decoded))
    scores = sorted(((_common_share(text, enc), enc) for enc, text in decoded.items()), reverse=True)
    (best, enc), (second, _) = scores[0], scores[1]
    if best - second >= AMBIGUOUS_MARGIN:
        return enc
    close = [e for score, e in scores if best - score < AMBIGUOUS_MARGIN]
    raise AmbiguousEncoding({e: _sample_line(decoded[e]) for e in close})


def _decode(raw: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    if encoding is None:
        try:
            encoding = detect_encoding(raw)
        except AmbiguousEncoding as exc:
            raise SQMDataError(str(path), [Problem("encoding", str(exc))]) from None
        except UnicodeError as exc:
            raise SQMDataError(str(path), [Problem("encoding", f"cannot read the text: {exc}; pass encoding=…")])
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SQMDataError(
            str(path),
            [Problem("encoding", f"the file is not valid {encoding} (byte {exc.start}, line {line}); "
                                 "check the encoding or leave encoding= unset to detect it")],
        ) from None
    except LookupError:
        raise SQMDataError(str(path), [Problem("encoding", f"unknown encoding {encoding!r}")]) from None
