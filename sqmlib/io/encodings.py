"""Which text encoding a file is in: UTF-8, or CP949 against GB18030 by the share of common characters."""
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
AMBIGUOUS_MARGIN = 0.25  # the better reading must have this much larger a share of common characters


def _common_share(text: str, encoding: str) -> float:
    """Share of the CJK characters of a reading that are common in the language the encoding implies
    (Hangul syllables for CP949, hanzi for GB18030); 0 when the reading has no CJK character."""
    common = COMMON_HANGUL if encoding == "cp949" else COMMON_HANZI
    total = hits = 0
    for ch in text:
        o = ord(ch)
        if 0xAC00 <= o <= 0xD7A3 or 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
            total += 1
            hits += ch in common
    return hits / total if total else 0.0


class AmbiguousEncoding(UnicodeError):
    """The bytes read as both Korean and Chinese and the text does not say which: ``readings`` maps each
    encoding to a sample line in that reading."""

    def __init__(self, readings: Mapping[str, str]):
        self.readings = dict(readings)
        shown = "; ".join(f"as {e.upper()}: {line!r}" for e, line in self.readings.items())
        super().__init__(f"the text reads as Korean (CP949) and as Chinese (GB18030) and cannot be told apart "
                         f"({shown}); pass the encoding, e.g. --encoding gb18030 or encoding: gb18030 in the "
                         "instrument file")


def _sample_line(text: str) -> str:
    """The first line with non-ASCII text (cut to 60 characters), for showing a reading."""
    for line in text.splitlines():
        if any(ord(c) > 127 for c in line):
            return line.strip()[:60]
    return text.strip().splitlines()[0][:60] if text.strip() else ""


def detect_encoding(raw: bytes) -> str:
    """Guess the encoding of a CSV file's bytes.

    UTF-8 (with or without BOM) first; otherwise CP949 (Korean) or GB18030 (Simplified Chinese, a superset
    of GBK and GB2312). Much Korean text also decodes as GB18030 and short Chinese text as CP949 (the two share
    byte ranges), so when both decode, the text itself decides: the reading whose characters are mostly common
    ones in its language (frequent Hangul syllables, frequent hanzi) wins by at least ``AMBIGUOUS_MARGIN``.

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
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    decoded = {}
    for enc in ("cp949", "gb18030"):
        try:
            decoded[enc] = raw.decode(enc)
        except UnicodeDecodeError:
            pass
    if not decoded:
        raise UnicodeError("the file is not UTF-8, GB18030/GBK or CP949")
    if len(decoded) == 1:
        return next(iter(decoded))
    ko, zh = _common_share(decoded["cp949"], "cp949"), _common_share(decoded["gb18030"], "gb18030")
    if ko - zh >= AMBIGUOUS_MARGIN:
        return "cp949"
    if zh - ko >= AMBIGUOUS_MARGIN:
        return "gb18030"
    raise AmbiguousEncoding({enc: _sample_line(text) for enc, text in decoded.items()})


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
