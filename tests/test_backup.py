"""`flask backup` / `flask restore`: a dump taken, data changed, the restore brings the data back."""
import psycopg


def company_names(conninfo):
    with psycopg.connect(conninfo) as connection:
        return sorted(row[0] for row in connection.execute("SELECT name FROM companies"))


def test_backup_then_restore_brings_the_data_back(runner, make_company, owner_conninfo, tmp_path):
    make_company("Kabsa House")
    dump = tmp_path / "portal.dump"
    result = runner.invoke(args=["backup", "--output", str(dump)])
    assert result.exit_code == 0, result.output
    assert dump.stat().st_size > 0

    make_company("Added After Backup")
    with psycopg.connect(owner_conninfo) as connection:
        connection.execute("UPDATE companies SET name = 'Renamed' WHERE name = 'Kabsa House'")
    assert company_names(owner_conninfo) == ["Added After Backup", "Renamed"]

    result = runner.invoke(args=["restore", str(dump)])
    assert result.exit_code == 0, result.output
    assert company_names(owner_conninfo) == ["Kabsa House"]


def test_restore_of_a_missing_file_is_refused(runner, tmp_path):
    result = runner.invoke(args=["restore", str(tmp_path / "nope.dump")])
    assert result.exit_code != 0 and "does not exist" in result.output
