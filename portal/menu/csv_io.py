"""The catalog as CSV: export, and an import that previews every row before anything is written.

The import reads UTF-8 (with or without the BOM Excel writes; comma, semicolon or tab separated),
checks every row with the same rules as the product form, and reports per line: new, changed,
unchanged, or the errors. Nothing is written until the person confirms; the confirmation sends the
same text back and it is checked again (the catalog may have changed in between), then the valid
rows are written in one transaction and the rows with errors are skipped.
"""
import csv
import io
from decimal import Decimal
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Product
from .services import MenuError, clean_product

COLUMNS = ["local_product_id", "sku", "name", "name_ar", "description", "description_ar", "category", "price",
           "image_url", "is_available"]
REQUIRED = ("local_product_id", "name", "price")
ALIASES = {"id": "local_product_id", "plu": "local_product_id", "product_id": "local_product_id",
           "name_en": "name", "arabic_name": "name_ar", "available": "is_available"}
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000


class CsvError(MenuError):
    """The file as a whole cannot be read (encoding, header, size)."""


@dataclass
class Row:
    line: int
    values: dict
    action: str = "new"          # new, update, unchanged, error
    errors: list = field(default_factory=list)
    product: Product | None = None
    cleaned: dict | None = None


@dataclass
class Preview:
    text: str
    rows: list
    columns: list

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def importable(self):
        return [row for row in self.rows if row.action in ("new", "update")]


def decode(raw):
    """The file's text, or CsvError saying how to save it as UTF-8."""
    if not raw:
        raise CsvError(_("The file is empty."), "file")
    if len(raw) > MAX_BYTES:
        raise CsvError(_("The file is larger than 2 MB. Split it into smaller files."), "file")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CsvError(_("The file is saved as UTF-16. Save it as “CSV UTF-8” and upload it again."), "file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError(_("The file is not UTF-8 text, so Arabic names would be garbled. In Excel choose "
                         "“Save as… CSV UTF-8 (Comma delimited)” and upload it again."), "file") from None


def parse(text, company):
    """Check every row of a catalog CSV against the catalog; returns a Preview (writes nothing)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvError(_("The file is empty."), "file") from None
    except csv.Error as error:
        raise CsvError(_("The file is not valid CSV: %(error)s", error=str(error)), "file") from None
    names = [ALIASES.get(name.strip().lower().lstrip("\ufeff"), name.strip().lower().lstrip("\ufeff"))
             for name in header]
    missing = [column for column in REQUIRED if column not in names]
    if missing:
        raise CsvError(_("The first line must name the columns; missing: %(columns)s. Download the export for an "
                         "example.", columns=", ".join(missing)), "file")
    unknown = [name for name in names if name and name not in COLUMNS]
    if unknown:
        raise CsvError(_("Unknown columns: %(columns)s. The columns are: %(known)s.", columns=", ".join(unknown),
                         known=", ".join(COLUMNS)), "file")
    existing = {product.local_product_id: product for product in db.session.scalars(select(Product))}
    rows, seen = [], {}
    try:
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvError(_("The file has more than %(count)s products. Split it into smaller files.",
                                 count=MAX_ROWS), "file")
            values = {name: (cells[index].strip() if index < len(cells) else "") for index, name in enumerate(names)
                      if name}
            rows.append(_check(Row(line, values), existing, seen, company))
    except csv.Error as error:
        raise CsvError(_("Line %(line)s is not valid CSV: %(error)s", line=reader.line_num, error=str(error)),
                       "file") from None
    if not rows:
        raise CsvError(_("The file has a header but no products."), "file")
    return Preview(text=text, rows=rows, columns=[name for name in COLUMNS if name in names])


def _check(row, existing, seen, company):
    local_id = row.values.get("local_product_id", "")
    if local_id and local_id in seen:
        row.action = "error"
        row.errors.append(_("Product id %(id)s is already on line %(line)s.", id=local_id, line=seen[local_id]))
        return row
    if local_id:
        seen[local_id] = row.line
    product = existing.get(local_id)
    data = dict(row.values)
    if "is_available" not in data or data["is_available"] == "":
        data["is_available"] = product.is_available if product is not None else True
    if product is not None:
        for column in COLUMNS:   # a column left out of the file keeps the product's value
            if column not in row.values:
                data[column] = getattr(product, column)
    row.errors = []
    try:
        cleaned = _clean(data, company, product)
    except MenuError as error:
        row.action, row.errors = "error", [error.message]
        return row
    row.cleaned, row.product = cleaned, product
    if product is None:
        row.action = "new"
    elif product.deleted_at is not None:
        row.action = "update"   # a deleted product comes back
    else:
        row.action = "update" if any(getattr(product, key) != value for key, value in cleaned.items()) else "unchanged"
    return row


def _clean(data, company, product):
    # clean_product refuses an id taken by another product; here the id *is* the product, so it is
    # checked against that product (existing=product).
    return clean_product({key: ("" if value is None else value) for key, value in data.items()}, company.currency,
                         existing=product)


def confirm(text, company):
    """Check the text again and write its valid rows; returns (preview, created, updated)."""
    preview = parse(text, company)
    created = updated = 0
    for row in preview.importable:
        if row.product is None:
            db.session.add(Product(company_id=company.id, sort_order=row.line, **row.cleaned))
            created += 1
        else:
            for key, value in row.cleaned.items():
                setattr(row.product, key, value)
            row.product.deleted_at = None
            updated += 1
    db.session.flush()
    return preview, created, updated


def export_rows(company):
    """The catalog (not deleted) as CSV lines, header first, UTF-8 with a BOM so Excel shows Arabic."""
    from babel.numbers import get_currency_precision
    quantum = Decimal(1).scaleb(-get_currency_precision(company.currency))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow(COLUMNS)
    yield _drain(buffer)
    products = db.session.scalars(select(Product).where(Product.deleted_at.is_(None))
                                  .order_by(Product.category.nulls_last(), Product.sort_order, Product.name))
    for product in products:
        writer.writerow([_cell(product.price.quantize(quantum) if column == "price" else getattr(product, column))
                         for column in COLUMNS])
        yield _drain(buffer)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _drain(buffer):
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return value
