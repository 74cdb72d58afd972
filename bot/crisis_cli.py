"""`firststep crisis`: measure, retrain and explain the crisis check.

    firststep crisis eval                  # the frozen test part: figures, misses, false alarms
    firststep crisis eval --summary        # the figures only, no message text
    firststep crisis eval --part dev       # the development part (the model was trained on it)
    firststep crisis train                 # cross-validate, choose thresholds, retrain
    firststep crisis explain "some text"   # which phrases match, and the model's scores

The corpus is tests/crisis/corpus/ (how it was made, and the frozen-part rules: its README).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="The crisis check: measure, retrain, explain.")

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "crisis" / "corpus"


class Part(StrEnum):
    frozen = "frozen"
    dev = "dev"


_FILES = {Part.frozen: "frozen_test.jsonl", Part.dev: "dev.jsonl"}


def _fail(message: str) -> None:
    typer.echo(f"firststep: {message}", err=True)
    raise typer.Exit(2)


def _corpus_file(corpus: Path, part: Part) -> Path:
    path = corpus / _FILES[part]
    if not path.is_file():
        _fail(f"no {path}: give the corpus folder with --corpus")
    return path


@app.command("eval")
def evaluate_command(
    part: Annotated[Part, typer.Option(help="Which part of the corpus.")] = Part.frozen,
    corpus: Annotated[Path, typer.Option(help="The corpus folder.")] = CORPUS,
    summary: Annotated[
        bool, typer.Option("--summary", help="Figures only: no miss or false alarm text.")
    ] = False,
) -> None:
    """Precision, recall and false alarms per kind and tier; every miss and false alarm."""
    from conversations.safety.check import assess
    from conversations.safety.evaluation import evaluate, load_corpus

    examples = load_corpus(_corpus_file(corpus, part))
    result = evaluate(examples, assess)
    typer.echo(f"Crisis check on {_FILES[part]} ({len(examples)} messages)")
    if part is Part.dev:
        typer.echo("(the model was trained on this part: cross-validated figures: `train`)")
    typer.echo("")
    typer.echo(result.report(with_messages=not summary))


@app.command("train")
def train_command(
    corpus: Annotated[Path, typer.Option(help="The corpus folder.")] = CORPUS,
) -> None:
    """Cross-validate by writer, choose thresholds, retrain on the development part."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        _fail("training needs scikit-learn: pip install -e '.[train]' (or `make crisis-model`)")
    from conversations.safety.evaluation import load_corpus
    from conversations.safety.training import train

    examples = load_corpus(_corpus_file(corpus, Part.dev))
    report = train(examples, progress=typer.echo)
    thresholds = report.thresholds
    typer.echo(
        f"Thresholds: check-in P(help) ≥ {thresholds.checkin}; urgent P(urgent) ≥ "
        f"{thresholds.urgent} after a phrase, ≥ {thresholds.urgent_alone} alone; "
        f"confirm P(help) ≥ {thresholds.confirm}"
    )
    typer.echo("")
    typer.echo("Cross-validated on the development part (each writer left out in turn):")
    typer.echo(report.cross_validated.report(with_messages=False))
    typer.echo("")
    typer.echo(f"Wrote {report.model_file} and the phrase index ({report.phrases} phrases).")


@app.command("explain")
def explain_command(text: Annotated[str, typer.Argument(help="A message to check.")]) -> None:
    """Which phrases a message matches (and which were negated), and the model's scores."""
    from conversations.safety.check import assess_with
    from conversations.safety.model import model
    from conversations.safety.normalise import normalise
    from conversations.safety.rules import engine

    trained = model()
    normalised = normalise(text)
    assessment = assess_with(engine(), trained, text, explain=True)
    typer.echo(f"normalised: {normalised}")
    for hit in engine().explain(normalised):
        family = hit.family
        state = "negated" if hit.negated else "matched"
        confirm = " (needs the model to confirm)" if family.confirm else ""
        typer.echo(f"{state}: {family.name} [{family.kind}, {family.tier}]{confirm}: {hit.text!r}")
    t = trained.thresholds
    typer.echo(
        f"P(help)   = {assessment.p_help:.3f} (check-in ≥ {t.checkin}, confirm ≥ {t.confirm})"
    )
    typer.echo(
        f"P(urgent) = {assessment.p_urgent or 0.0:.3f} "
        f"(urgent ≥ {t.urgent} after a phrase, ≥ {t.urgent_alone} alone)"
    )
    typer.echo(f"model's kind: {assessment.model_kind}")
    verdict = assessment.verdict
    typer.echo(f"verdict: {verdict.tier}/{verdict.kind}" if verdict else "verdict: nothing")
