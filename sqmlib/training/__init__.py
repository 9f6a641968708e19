"""Teaching notebooks for service-quality staff: lessons, exercises that answer back, quizzes, two languages.

A lesson (``notebooks/training/NN_*.ipynb``) starts with ``L = training.Lesson("servqual_gaps", lang=lang,
solutions=solutions)``; its narrative, exercise prompts, hints, solutions and quiz live in
``sqmlib/training/lessons/<name>.yaml`` in English and Simplified Chinese, and the expected answers are
computed from the lesson's data (:mod:`sqmlib.training.exercises`), so they stay right when the data change.

- :meth:`Lesson.say` shows a piece of narrative; :meth:`Lesson.exercise` the prompt of an exercise.
- :func:`check` (or :meth:`Lesson.check`) says right or wrong with a hint that points at the method, never
  at the answer; each further wrong try gives the next hint.
- :meth:`Lesson.solution` shows the worked solution and returns the answer: the instructor version
  (notebook parameter ``solutions=True``) calls it, the trainee version does not.
- :meth:`Lesson.quiz`, :meth:`Lesson.check_quiz` and :meth:`Lesson.answer_key` (shown with ``solutions``).
- :meth:`Lesson.plot` draws any :mod:`sqmlib.plots` chart with its titles, labels and legends in the lesson's
  language; :meth:`Lesson.table` translates column names and known values. For Chinese a CJK font is found
  or registered (:func:`cjk_font`); without one, a clear message says how to install it.
- :func:`render` runs every lesson with papermill in both languages and both versions.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd
import yaml

from .. import sample as synth
from ..errors import SQMError, SQMWarning
from ..render.fonts import CJK_FAMILIES, cjk_font  # noqa: F401  (re-exported: training.cjk_font)
from ..instruments import load as load_instrument  # noqa: F401  (for the lessons: training.load_instrument)
from ..paths import NOTEBOOK_DIR
from ..render.messages import msg
from ..runner.kernel import SharedKernel
from ..runner.pages import finish_page
from . import exercises, i18n

LESSON_DIR = Path(__file__).resolve().parent / "lessons"
LANGS = ("en", "zh")
NO_FONT_MESSAGE = {
    "en": ("No font with Chinese characters was found, so Chinese chart labels would show as empty boxes. "
           "`make test` / `make report` install one (the mplfonts package, Noto Sans CJK SC); or run "
           "`pip install mplfonts`, or install the system package fonts-noto-cjk, then restart the kernel."),
    "zh": ("未找到可显示中文的字体，图表中的中文会显示为方框。运行 `make test` 或 `make report` 会自动安装"
           "（mplfonts 软件包中的 Noto Sans CJK SC）；也可以执行 `pip install mplfonts` 或安装系统字体包 "
           "fonts-noto-cjk，然后重启内核。"),
}

_active: "Lesson | None" = None


class SQMTrainingError(SQMError, ValueError):
    """A lesson, exercise or quiz question that does not exist, or an unsupported language."""


# ---------------------------------------------------------------------------------------------------------
# fonts
# ---------------------------------------------------------------------------------------------------------
def use_language(lang: str) -> str | None:
    """Set matplotlib up for ``lang``: for Chinese, a CJK font first with the default font as fallback.

    Returns the CJK family used, or ``None`` (English, or no CJK font: then a warning says how to get one).
    """
    import matplotlib

    if lang not in LANGS:
        raise SQMTrainingError(f"lang must be one of {LANGS}, got {lang!r}")
    if lang != "zh":
        return None
    family = cjk_font()
    if family is None:
        warnings.warn(NO_FONT_MESSAGE["en"], SQMWarning, stacklevel=2)
        return None
    fallback = [f for f in matplotlib.rcParams["font.sans-serif"] if f != family]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [family, *fallback]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family


# ---------------------------------------------------------------------------------------------------------
# feedback
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Feedback:
    """The answer to a check: ``correct`` is True, False, or None (nothing answered yet)."""

    exercise: str
    correct: bool | None
    message: str

    def __bool__(self) -> bool:
        return bool(self.correct)

    def _repr_markdown_(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


def check(exercise_id: str, answer: Any) -> Feedback:
    """Check an answer of the current lesson (the one created last)."""
    if _active is None:
        raise SQMTrainingError("no lesson yet: start with L = training.Lesson(name, lang=...)")
    return _active.check(exercise_id, answer)


# ---------------------------------------------------------------------------------------------------------
# lessons
# ---------------------------------------------------------------------------------------------------------
def lessons() -> list[str]:
    """Names of the lessons (their YAML files)."""
    return sorted(p.stem for p in LESSON_DIR.glob("*.yaml"))


@lru_cache(maxsize=None)
def _load_lesson(name: str) -> dict:
    path = LESSON_DIR / f"{name}.yaml"
    if not path.exists():
        raise SQMTrainingError(f"no lesson {name!r}; lessons: {', '.join(lessons())}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _norm_text(v: Any) -> str:
    return re.sub(r"\s+", " ", str(v)).strip().lower()


class Lesson:
    """One teaching notebook's texts, data, exercises and quiz in one language.

    Parameters
    ----------
    name : str
        The lesson (``sqmlib/training/lessons/<name>.yaml``).
    lang : {"en", "zh"}
    solutions : bool
        The instructor version: :meth:`answer_key` shows the key.
    data_dir : str or path
        Data folder for lessons on the sample data (empty: the bundled sample; in Chinese the same sample with
        Chinese region, channel and plan names and complaint texts, :func:`sqmlib.synth.sample_folder`).
    """

    def __init__(self, name: str, lang: str = "en", solutions: bool = False, data_dir: str | Path = ""):
        global _active
        if lang not in LANGS:
            raise SQMTrainingError(f"lang must be one of {LANGS}, got {lang!r}")
        self.name, self.lang, self.solutions = name, lang, bool(solutions)
        self.spec = _load_lesson(name)
        self.font = use_language(lang)
        self.font_missing = lang == "zh" and self.font is None
        if not str(data_dir) and lang == "zh":  # Chinese lessons work on the Chinese sample (same numbers)
            data_dir = synth.sample_folder("zh")
        self.data = exercises.load(name, data_dir)
        self._expected: dict = {}
        self._tries: dict = {}
        _active = self

    # ---- text --------------------------------------------------------------------------------------------
    def _pick(self, entry: Mapping | str, **fmt) -> str:
        text = entry if isinstance(entry, str) else (entry.get(self.lang) or entry.get("en", ""))
        return text.format(**fmt) if fmt else text

    def t(self, key: str, **fmt) -> str:
        """A piece of narrative in the lesson's language."""
        texts = self.spec.get("text", {})
        if key not in texts:
            raise SQMTrainingError(f"lesson {self.name!r} has no text {key!r}")
        return self._pick(texts[key], **fmt)

    def say(self, key: str, **fmt) -> None:
        """Show a piece of narrative (Markdown)."""
        from IPython.display import Markdown, display

        display(Markdown(self.t(key, **fmt)))

    def title(self) -> None:
        """Show the lesson's title, duration and, for Chinese without a CJK font, how to get one."""
        from IPython.display import Markdown, display

        minutes = self.spec.get("minutes", 45)
        head = self._pick(self.spec["title"])
        sub = {"en": f"About {minutes} minutes. Version: {'instructor (with solutions)' if self.solutions else 'trainee'}.",
               "zh": f"约 {minutes} 分钟。版本：{'讲师版（含答案）' if self.solutions else '学员版'}。"}[self.lang]
        display(Markdown(f"# {head}\n\n*{sub}*"))
        if self.font_missing:
            display(Markdown(f"**{NO_FONT_MESSAGE[self.lang]}**"))

    # ---- exercises ---------------------------------------------------------------------------------------
    def _exercise(self, exercise_id: str) -> dict:
        ex = self.spec.get("exercises", {})
        if exercise_id not in ex:
            raise SQMTrainingError(f"lesson {self.name!r} has no exercise {exercise_id!r}; "
                                   f"exercises: {', '.join(ex)}")
        return ex[exercise_id]

    def exercise(self, exercise_id: str) -> None:
        """Show an exercise's prompt."""
        from IPython.display import Markdown, display

        ex = self._exercise(exercise_id)
        label = {"en": "Exercise", "zh": "练习"}[self.lang]
        display(Markdown(f"> **✏️ {label} {ex.get('number', exercise_id)}** — {self._pick(ex['prompt'])}"))

    def expected(self, exercise_id: str) -> Any:
        """The expected answer (computed from the lesson's data, or fixed in the lesson file)."""
        if exercise_id not in self._expected:
            ex = self._exercise(exercise_id)
            self._expected[exercise_id] = ex["answer"] if "answer" in ex else exercises.expected(self, exercise_id)
        return self._expected[exercise_id]

    def _is_right(self, ex: dict, answer: Any, expected: Any) -> tuple[bool, str | None]:
        """(right?, key of a specific hint for this wrong answer)."""
        kind = ex.get("kind", "number")
        if kind == "number":
            try:
                value = float(answer)
            except (TypeError, ValueError):
                return False, "not_a_number"
            tol = float(ex.get("tolerance", 0.005))
            if abs(value - float(expected)) <= tol:
                return True, None
            if abs(value + float(expected)) <= tol and expected != 0:
                return False, "sign"
            if ex.get("share") and abs(value / 100 - float(expected)) <= tol:
                return False, "percent"  # a share given in percent
            return False, None
        synonyms = {_norm_text(k): _norm_text(v) for k, v in i18n.ANSWER_SYNONYMS.items()}
        for k, v in (ex.get("synonyms") or {}).items():
            synonyms[_norm_text(k)] = _norm_text(v)

        def canon(v):
            n = _norm_text(v)
            return synonyms.get(n, n)

        if kind == "choice":
            a = canon(answer)
            return a == canon(expected), a if a in {canon(k) for k in ex.get("hints_for", {})} else None
        if kind == "choices":  # at least `at_least` options, every one of them from the right set
            chosen = [canon(a) for a in (answer if isinstance(answer, (list, tuple, set)) else [answer])]
            right = {canon(e) for e in expected}
            wrong = [c for c in chosen if c not in right]
            if wrong:
                return False, wrong[0] if wrong[0] in {canon(k) for k in ex.get("hints_for", {})} else None
            if len(set(chosen)) < int(ex.get("at_least", 1)):
                return False, "too_few"
            return True, None
        raise SQMTrainingError(f"unknown exercise kind {kind!r}")

    def check(self, exercise_id: str, answer: Any) -> Feedback:
        """Right or wrong, with a hint on the method; the answer itself is never shown."""
        ex = self._exercise(exercise_id)
        lang = self.lang
        if answer is None or (isinstance(answer, (list, tuple, set)) and not answer):
            empty = msg("lesson.empty", "No answer yet: replace `None` with your answer and run the cell again.",
                        lang=lang)
            return Feedback(exercise_id, None, f"✏️ {empty}")
        right, specific = self._is_right(ex, answer, self.expected(exercise_id))
        if right:
            note = self._pick(ex["well_done"]) if "well_done" in ex else ""
            right = msg("lesson.right", "Right.", lang=lang)
            return Feedback(exercise_id, True, f"✅ **{right}** {note}".rstrip())
        tries = self._tries[exercise_id] = self._tries.get(exercise_id, 0) + 1
        hints_for = {_norm_text(k): v for k, v in (ex.get("hints_for") or {}).items()}
        if specific is not None and _norm_text(specific) in hints_for:
            hint = self._pick(hints_for[_norm_text(specific)])
        elif specific in ("not_a_number", "too_few", "sign", "percent"):
            hint = i18n.hint_for(specific, lang, n=ex.get("at_least", 1))
        else:
            hints = ex.get("hints") or [{"en": "Look again at the method above.", "zh": "请再看一遍上面的方法。"}]
            hint = self._pick(hints[min(tries, len(hints)) - 1])
        wrong, label = msg("lesson.wrong", "Not yet.", lang=lang), msg("lesson.hint", "Hint", lang=lang)
        return Feedback(exercise_id, False, f"❌ **{wrong}** {label}: {hint}")

    def solution(self, exercise_id: str) -> Any:
        """Show the worked solution and return the answer (the instructor version calls this)."""
        from IPython.display import Markdown, display

        ex = self._exercise(exercise_id)
        value = self.expected(exercise_id)
        shown = i18n.format_answer(value, self.lang)
        text = self._pick(ex.get("solution", {"en": "", "zh": ""}), answer=shown)
        label = msg("lesson.solution", "Solution", lang=self.lang)
        display(Markdown(f"> **💡 {label}** — {text}"))
        return value

    def catalogue(self, name: str) -> pd.DataFrame:
        """A list from the lesson file (e.g. the measures to choose from) as a table in the lesson's language."""
        items = self.spec.get("catalogues", {}).get(name)
        if items is None:
            raise SQMTrainingError(f"lesson {self.name!r} has no list {name!r}")
        code, what = {"en": ("code", "measure"), "zh": ("编号", "措施")}[self.lang]
        return pd.DataFrame({code: list(items), what: [self._pick(v) for v in items.values()]})

    # ---- quiz --------------------------------------------------------------------------------------------
    def quiz(self) -> None:
        """Show the quiz questions with their options."""
        from IPython.display import Markdown, display

        lines = ["### " + msg("lesson.quiz", "Quiz", lang=self.lang)]
        for i, q in enumerate(self.spec.get("quiz", []), 1):
            lines.append(f"**{i}. {self._pick(q['q'])}**")
            lines += [f"- ({k}) {self._pick(v)}" for k, v in q["options"].items()]
            lines.append("")
        display(Markdown("\n".join(lines)))

    def check_quiz(self, answers: Mapping[int | str, str] | Sequence[str] | None) -> Feedback:
        """Score the quiz: ``answers`` maps question number (1, 2, …) to an option letter, or lists the letters
        in order. Wrong answers get the question's hint, not the right letter."""
        lang = self.lang
        qs = self.spec.get("quiz", [])
        if not answers:
            empty = msg("lesson.quiz_empty", 'No answers yet: fill in the letters, e.g. {{1: "b", 2: "a"}}.', lang=lang)
            return Feedback("quiz", None, f"✏️ {empty}")
        if isinstance(answers, (list, tuple)):
            answers = {i + 1: a for i, a in enumerate(answers)}
        answers = {int(k): v for k, v in answers.items()}
        right, lines = 0, []
        for i, q in enumerate(qs, 1):
            a = answers.get(i)
            if a is None:
                lines.append(f"- {i}: " + msg("lesson.skipped", "not answered", lang=lang))
            elif str(a).strip().lower() == str(q["answer"]).lower():
                right += 1
                lines.append(f"- {i}: ✅")
            else:
                lines.append(f"- {i}: ❌ {self._pick(q['hint'])}")
        head = msg("lesson.score", "{right} of {n} right.", lang=lang, right=right, n=len(qs))
        return Feedback("quiz", right == len(qs), f"**{head}**\n\n" + "\n".join(lines))

    def quiz_key(self) -> dict[int, str]:
        """The quiz's answers as {question number: letter} (what the instructor version fills in)."""
        return {i: q["answer"] for i, q in enumerate(self.spec.get("quiz", []), 1)}

    def answer_key(self) -> None:
        """The quiz's answer key with the reasons (instructor version only)."""
        from IPython.display import Markdown, display

        if not self.solutions:
            display(Markdown("*" + msg("lesson.key_hidden", "The answer key is in the instructor version (parameter "
                                       "solutions=True).", lang=self.lang) + "*"))
            return
        lines = ["### " + msg("lesson.key", "Answer key", lang=self.lang)]
        for i, q in enumerate(self.spec.get("quiz", []), 1):
            lines.append(f"{i}. **({q['answer']})** {self._pick(q['options'][q['answer']])} — {self._pick(q['why'])}")
        display(Markdown("\n".join(lines)))

    # ---- charts and tables -------------------------------------------------------------------------------
    def plot(self, draw: Callable[..., Any], *args, **kwargs):
        """Draw a chart (any :mod:`sqmlib.plots` function, or one's own) with its texts in the lesson's
        language; returns the Figure."""
        fig = draw(*args, **kwargs)
        return i18n.localize_figure(fig, self.lang)

    def table(self, frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
        """The frame with column names and known values (dimensions, quadrants, categories …) translated and
        numbers rounded, for display."""
        return i18n.localize_table(frame, self.lang, digits)

    def label(self, text: str) -> str:
        """One label in the lesson's language (for one's own charts)."""
        return i18n.translate(text, self.lang)


# ---------------------------------------------------------------------------------------------------------
# rendering every lesson in both languages and both versions
# ---------------------------------------------------------------------------------------------------------
def training_notebooks() -> list[Path]:
    return sorted((NOTEBOOK_DIR / "training").glob("[0-9][0-9]_*.ipynb"))


def render(out_dir: str | Path, *, notebooks: Sequence[str | Path] | None = None, langs: Sequence[str] = LANGS,
           versions: Sequence[bool] = (False, True), kernel: str = "python3", timeout: int = 600,
           html: bool = True, force: bool = False, log=print) -> list[Path]:
    """Run each training notebook with papermill for every language and version into
    ``out_dir/<lang>/<trainee|instructor>/``, with an HTML copy; returns the executed notebooks.

    A folder that already holds rendered notebooks is not overwritten unless ``force`` (then it is replaced
    once its new version has been rendered completely).
    """
    out = Path(out_dir)
    nbs = [Path(p) for p in notebooks] if notebooks is not None else training_notebooks()
    with SharedKernel(kernel) as shared:  # one kernel for every rendering, each notebook from a fresh start
        return _render_all(shared, nbs, out, langs, versions, timeout, html, force, log)


def _render_all(shared, nbs, out, langs, versions, timeout, html, force, log) -> list[Path]:
    import shutil

    import nbformat
    from nbconvert import HTMLExporter

    done = []
    for lang in langs:
        for solutions in versions:
            final = out / lang / ("instructor" if solutions else "trainee")
            if final.exists() and any(final.iterdir()) and not force:
                raise SQMTrainingError(f"{final} exists and is not empty; it was left as it is (use force=True / "
                                       "--force to replace it)")
            folder = final.with_name(f".{final.name}.rendering")
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for nb in nbs:
                target = folder / nb.name
                log(f"{lang} {'instructor' if solutions else 'trainee'}: {nb.name}")
                shared.execute(nb, target, {"lang": lang, "solutions": solutions, "out_dir": str(folder / nb.stem)},
                               folder, timeout=timeout)
                if html:
                    body, _ = HTMLExporter().from_notebook_node(nbformat.read(target, as_version=4))
                    # the report pages' font: Chinese text reads on a machine without CJK fonts too
                    target.with_suffix(".html").write_text(finish_page(body, lang), encoding="utf-8")
                done.append(final / nb.name)
            shutil.rmtree(final, ignore_errors=True)
            folder.rename(final)
    return done
