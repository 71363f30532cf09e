"""Menu pages: catalog CSV import (upload, preview, confirm) and export."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import UserRole
from ..web import csv_download
from . import bp, csv_io
from .forms import ConfirmImportForm, ImportForm
from .services import MenuError

# --------------------------------------------------------------------------- CSV

@bp.get("/import")
@roles_required(UserRole.MANAGER)
def import_form():
    """Upload a catalog CSV."""
    return render_template("menu/import.html", form=ImportForm(), preview=None)


@bp.post("/import")
@roles_required(UserRole.MANAGER)
def import_preview():
    """Check every row of the file and show what would change; nothing is written."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("menu/import.html", form=form, preview=None), 422
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors = [_("Choose a CSV file.")]
        return render_template("menu/import.html", form=form, preview=None), 422
    try:
        text = csv_io.decode(upload.read(csv_io.MAX_BYTES + 1))
        preview = csv_io.parse(text, g.company)
    except MenuError as error:
        form.file.errors = [error.message]
        return render_template("menu/import.html", form=form, preview=None), 422
    finally:
        db.session.rollback()
    return render_template("menu/import.html", form=form, preview=preview,
                           confirm_form=ConfirmImportForm(text=preview.text), filename=upload.filename)


@bp.post("/import/confirm")
@roles_required(UserRole.MANAGER)
def import_confirm():
    """Write the previewed rows that are valid (checked again now); the rows with errors are skipped."""
    form = ConfirmImportForm()
    if not form.validate_on_submit() or not form.text.data:
        abort(400)
    try:
        preview, created, updated = csv_io.confirm(form.text.data, g.company)
    except MenuError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("menu.import_form"))
    db.session.commit()
    skipped = preview.count("error")
    flash(_("Imported: %(created)s new, %(updated)s changed, %(unchanged)s unchanged, %(skipped)s skipped "
            "because of errors.", created=created, updated=updated, unchanged=preview.count("unchanged"),
            skipped=skipped), "success" if not skipped else "info")
    return redirect(url_for("menu.index"))


@bp.get("/export.csv")
@roles_required(UserRole.MANAGER)
def export():
    """The catalog as CSV (UTF-8 with BOM; the import reads it back)."""
    today = datetime.now(tz=ZoneInfo(g.company.timezone)).date()
    return csv_download(csv_io.export_rows(g.company), f"menu-{today.isoformat()}.csv")
