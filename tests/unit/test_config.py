from datetime import date
from pathlib import Path

import pytest

from tickcast.config import ConfigError, Settings, apply_policy, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tickcast.yaml"
    path.write_text(text)
    return path


def test_defaults_need_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TICKCAST_CONFIG", raising=False)
    monkeypatch.chdir(Path("/"))
    settings = load_settings()
    assert settings.data.source == "csv"
    assert settings.database.url is None
    assert settings.calendar.exchange == "XNYS"


def test_yaml_then_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path,
        "tickers: [aapl, MSFT]\ndata:\n  source: synthetic\n  synthetic:\n    n_tickers: 5\n",
    )
    settings = load_settings(path)
    assert settings.tickers == ["AAPL", "MSFT"]
    assert settings.data.synthetic.n_tickers == 5

    monkeypatch.setenv("TICKCAST_DATA__SYNTHETIC__N_TICKERS", "9")
    monkeypatch.setenv("TICKCAST_TICKERS", "ibm, ge")
    monkeypatch.setenv("TICKCAST_DATABASE__URL", "postgresql://u:secret@db:5432/tickcast")
    settings = load_settings(path)
    assert settings.data.synthetic.n_tickers == 9
    assert settings.data.source == "synthetic"
    assert settings.tickers == ["IBM", "GE"]
    assert settings.database.url == "postgresql://u:secret@db:5432/tickcast"
    assert type(settings) is Settings


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKCAST_CONFIG", str(write(tmp_path, "tickers: [KO]\n")))
    assert load_settings().tickers == ["KO"]


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("data:\n  source: bloomberg\n", "data.source", "'csv', 'synthetic' or 'yfinance'"),
        ("data:\n  sourc: csv\n", "data.sourc", "Extra inputs are not permitted"),
        ("database:\n  url: mysql://x\n", "database.url", "must be a postgresql:// URL"),
        ("ingest:\n  batch_rows: 0\n", "ingest.batch_rows", "greater than or equal to 1"),
        ("tickers: [AAPL, 'bad ticker!']\n", "tickers", "is not a ticker symbol"),
        ("tickers: [AAPL, aapl]\n", "tickers", "listed more than once: AAPL"),
        (
            "data:\n  synthetic:\n    start: 2020-01-01\n    end: 2019-01-01\n",
            "data.synthetic",
            "before start",
        ),
        ("calendar:\n  first_session: not-a-date\n", "calendar.first_session", "date"),
    ],
)
def test_invalid_config_names_key_and_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, text))
    message = str(raised.value)
    assert f"  {key}: " in message
    assert problem in message
    assert str(tmp_path) in message


def test_invalid_environment_value_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TICKCAST_INGEST__LOCK_WAIT_SECONDS", "soon")
    with pytest.raises(
        ConfigError, match=r"ingest\.lock_wait_seconds: Input should be a valid number"
    ):
        load_settings(write(tmp_path, ""))


def test_a_list_set_as_plain_text_names_its_own_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TICKCAST_FEATURES__CROSS_SECTION", "rank")  # text: no JSON needed
    monkeypatch.setenv("TICKCAST_FEATURES__INDICATORS", "rsi_14,macd")
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, ""))
    assert "TICKCAST_FEATURES__INDICATORS must be JSON (a list like" in str(raised.value)
    assert "CROSS_SECTION" not in str(raised.value)
    monkeypatch.setenv("TICKCAST_FEATURES__INDICATORS", '["rsi_14", "macd"]')
    assert load_settings(write(tmp_path, "")).features.indicators == ["rsi_14", "macd"]


def test_broken_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_settings(write(tmp_path, "data: [unclosed\n"))
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_settings(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_with_overrides_revalidates() -> None:
    settings = Settings()
    changed = settings.with_overrides(
        {"data": {"synthetic": {"n_tickers": 3, "start": date(2016, 1, 4)}}}
    )
    assert changed.data.synthetic.n_tickers == 3
    assert changed.data.synthetic.seed == settings.data.synthetic.seed
    with pytest.raises(ConfigError, match=r"data\.synthetic\.n_tickers"):
        settings.with_overrides({"data": {"synthetic": {"n_tickers": -1}}})


REPO_ROOT = Path(__file__).resolve().parents[2]


def test_repository_config_file_is_valid() -> None:
    settings = load_settings(REPO_ROOT / "config/tickcast.yaml")
    assert settings.data.csv.path == REPO_ROOT / "data/sample/stocknet"
    assert (settings.data.csv.path / "AAPL.csv").is_file()


def test_relative_paths_mean_the_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From any subfolder, the same config file and the same stores; URIs stay as written."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config/tickcast.yaml").write_text(
        "data: {csv: {path: prices}}\n"
        "artifacts: {root: s3://bucket/tickcast}\n"
        "kfp: {local_root: /abs/kfp}\n"
    )
    (tmp_path / "deep/er").mkdir(parents=True)
    monkeypatch.delenv("TICKCAST_CONFIG")
    for folder in (tmp_path, tmp_path / "deep/er"):
        monkeypatch.chdir(folder)
        settings = load_settings()
        assert settings.data.csv.path == tmp_path / "prices"
        assert settings.database.embedded_dir == tmp_path / ".tickcast/pg"
        assert settings.mlflow.tracking_uri == f"sqlite:///{tmp_path}/.tickcast/mlflow/mlflow.db"
        assert settings.artifacts.root == "s3://bucket/tickcast"
        assert settings.kfp.local_root == "/abs/kfp"
        assert settings.kfp.pipelines_dir == str(tmp_path / "pipelines")

    # An explicit file in some project's config/ folder: that project, from anywhere.
    monkeypatch.chdir("/")
    assert load_settings(tmp_path / "config/tickcast.yaml").data.csv.path == tmp_path / "prices"
    monkeypatch.setenv("TICKCAST_MLFLOW__TRACKING_URI", "http://mlflow:5000")
    assert load_settings(tmp_path / "config/tickcast.yaml").mlflow.tracking_uri == (
        "http://mlflow:5000"
    )


def test_policy_file_changes_only_policy_sections(tmp_path: Path) -> None:
    base = Settings().with_overrides({"tickers": ["AAPL"]})
    strict = tmp_path / "strict.yaml"
    strict.write_text("decision:\n  max_mape: 1.5\npromotion:\n  min_improvement: 0.02\n")
    settings = apply_policy(base, strict)
    assert settings.decision.max_mape == 1.5
    assert settings.promotion.min_improvement == 0.02
    assert settings.decision.max_mase == base.decision.max_mase
    assert settings.tickers == ["AAPL"]

    outside = tmp_path / "outside.yaml"
    outside.write_text("decision: {max_mape: 2}\ndatabase: {url: postgresql://elsewhere/x}\n")
    with pytest.raises(ConfigError, match=r"outside.yaml: database not a policy section"):
        apply_policy(base, outside)
    bad = tmp_path / "bad.yaml"
    bad.write_text("decision:\n  max_mape: lots\n")
    with pytest.raises(ConfigError, match=r"(?s)bad.yaml: .*decision.max_mape"):
        apply_policy(base, bad)
    with pytest.raises(ConfigError, match="does not exist"):
        apply_policy(base, tmp_path / "missing.yaml")


def test_a_configuration_error_never_shows_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """A credential in a rejected value (a database URL with its password, a webhook URL, a
    bearer token) is named, never printed; other values are shown as given."""
    monkeypatch.setenv("TICKCAST_DATABASE__URL", "mysql://u:hunter2-password@db/x")
    monkeypatch.setenv("TICKCAST_SERVING__AUTH__TOKENS", "hunter2")
    monkeypatch.setenv(
        "TICKCAST_ALERTS", '{"webhooks": [{"url": "ftp://hooks/hunter2"}], "bogus": "shown"}'
    )
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "hunter2" not in message
    assert "database.url" in message and "serving.auth.tokens" in message
    assert "alerts.webhooks.0.url" in message and "'shown'" in message
