import json

import pytest

from synsym.cli import main


def test_generate_help_gives_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for expected in ("sub-concepts per symptom (default: 2)", "posts per sub-concept and style", "(default: 10)",
                     "minimum judge score, 0-5", "(default: 3)", "random seed"):
        assert expected in text


def test_bad_taxonomy_path_exits_with_message(tmp_path, capsys):
    code = main(["generate", "--taxonomy", str(tmp_path / "absent.yaml"), "--output", str(tmp_path / "run")])
    assert code == 2
    assert "absent.yaml" in capsys.readouterr().err


def test_invalid_threshold_names_setting(tmp_path, capsys):
    code = main(["generate", "--threshold", "9", "--output", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "threshold" in err
    assert "9" in err


def test_config_file_with_unknown_field_is_rejected(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"sub_concept": 3}))
    code = main(["generate", "--config", str(path)])
    assert code == 2
    assert "sub_concept" in capsys.readouterr().err


def test_models_lists_smollm2(capsys):
    main(["models", "--no-verify"])
    assert "local:smollm2-135m-instruct-q4_1" in capsys.readouterr().out
