"""The mapping editor: products × enabled platforms, one `menu_mappings` row per cell.

A cell holds the platform's product id, its price (inherited from the catalog unless overridden),
its availability on that platform and its sync status. Bulk actions map, reprice and copy many
cells at once. Platform products the portal has seen in orders (or imported) but that no mapping
names are listed with the most similar catalog product (pg_trgm), to accept in one click.
"""
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision
from flask_babel import gettext as _
from rapidfuzz import fuzz, process, utils
from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.orm import load_only

from ..extensions import db
from ..models import IntegrationConfig, MenuMapping, PlatformProduct, Product, SyncStatus
from ..platforms import adapter_for
from .services import MenuError, clean_money, clean_text, product_query, utcnow

GRID_PAGE = 50
SEEN_DAYS = 30
SUGGESTION_THRESHOLD = 0.3
MAX_PERCENT = Decimal("90")


@dataclass
class Cell:
    """What one grid cell shows (and, after a refused save, what the person typed)."""

    product: Product
    integration: IntegrationConfig
    mapping: MenuMapping | None
    typed: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    saved: bool = False
    reset: bool = False          # the inputs show the stored values again (after an unmap)

    @property
    def key(self):
        return f"{self.product.id}-{self.integration.id}"

    def value(self, name):
        if name in self.typed:
            return self.typed[name]
        if self.mapping is None:
            return "" if name != "is_available" else True
        if name == "platform_product_id":
            return self.mapping.platform_product_id
        if name == "price":
            return "" if not self.mapping.price_overridden else self.mapping.product_price
        return self.mapping.is_available


def enabled_integrations():
    return db.session.scalars(select(IntegrationConfig).where(IntegrationConfig.is_enabled)
                              .order_by(IntegrationConfig.platform)).all()


def grid_query(q=None, category=None, show="all", integrations=()):
    query = product_query(q, category)
    ids = [integration.id for integration in integrations]
    mapped_on_all = and_(*[exists().where(MenuMapping.company_id == Product.company_id,
                                          MenuMapping.local_product_id == Product.local_product_id,
                                          MenuMapping.integration_config_id == integration_id)
                           for integration_id in ids]) if ids else None
    if show == "unmapped" and mapped_on_all is not None:
        query = query.where(~mapped_on_all)
    elif show == "errors":
        query = query.where(exists().where(MenuMapping.company_id == Product.company_id,
                                           MenuMapping.local_product_id == Product.local_product_id,
                                           MenuMapping.sync_status == SyncStatus.failed))
    return query


def grid(q=None, category=None, show="all", page=1, per_page=GRID_PAGE):
    """(integrations, page of products, {(local id, integration id): mapping}, counts)."""
    integrations = enabled_integrations()
    query = grid_query(q, category, show, integrations).options(load_only(
        Product.id, Product.name, Product.local_product_id, Product.price, Product.company_id))
    products = db.paginate(query, page=page, per_page=per_page, error_out=False)
    local_ids = [product.local_product_id for product in products.items]
    mappings = {}
    if local_ids and integrations:
        # Plain rows (not ORM objects) of what a cell shows: the grid may hold 1,500 of them.
        for row in db.session.execute(select(*GRID_COLUMNS).where(MenuMapping.local_product_id.in_(local_ids))):
            mappings[(row.local_product_id, row.integration_config_id)] = row
    return integrations, products, mappings


GRID_COLUMNS = (MenuMapping.local_product_id, MenuMapping.integration_config_id, MenuMapping.platform_product_id,
                MenuMapping.product_price, MenuMapping.price_overridden, MenuMapping.is_available,
                MenuMapping.sync_status, MenuMapping.sync_errors)


def unmapped_count(integrations):
    """How many catalog products miss a mapping on at least one enabled platform."""
    if not integrations:
        return 0
    return db.session.scalar(select(func.count()).select_from(
        grid_query(show="unmapped", integrations=integrations).order_by(None).subquery()))


def cell(product, integration):
    mapping = db.session.scalar(select(MenuMapping).where(MenuMapping.local_product_id == product.local_product_id,
                                                          MenuMapping.integration_config_id == integration.id))
    return Cell(product, integration, mapping)


def save_cell(company, product, integration, values):
    """Save one cell from what was typed; returns the Cell (with errors and the typed values if refused)."""
    typed = {"platform_product_id": (values.get("platform_product_id") or "").strip(),
             "price": (values.get("price") or "").strip(),
             "is_available": values.get("is_available") in ("1", "on", "true", "y")}
    current = cell(product, integration)
    errors = {}
    platform_id = typed["platform_product_id"]
    price = None
    try:
        platform_id = clean_text(platform_id, "platform_product_id", required=True, label=_("Platform id"))
        if len(platform_id) > 100:
            raise MenuError(_("%(field)s can be at most %(limit)s characters.", field=_("Platform id"), limit=100),
                            "platform_product_id")
        clash = db.session.scalar(select(MenuMapping.local_product_id).where(
            MenuMapping.integration_config_id == integration.id, MenuMapping.platform_product_id == platform_id,
            MenuMapping.local_product_id != product.local_product_id).limit(1))
        if clash is not None:
            raise MenuError(_("%(id)s is already mapped to product %(product)s on this platform.", id=platform_id,
                              product=clash), "platform_product_id")
    except MenuError as error:
        errors["platform_product_id"] = error.message
    try:
        price = clean_money(typed["price"], company.currency, required=False)
        refused_zero = (price if price is not None else product.price) == 0
        if refused_zero and not adapter_for(integration.platform).accepts_zero_price:
            raise MenuError(_("%(platform)s does not accept a price of 0: enter the price customers pay there.",
                              platform=adapter_for(integration.platform).display_name), "price")
    except MenuError as error:
        errors["price"] = error.message
    if errors:
        return Cell(product, integration, current.mapping, typed=typed, errors=errors)
    mapping = current.mapping
    if mapping is None:
        mapping = MenuMapping(company_id=company.id, integration_config_id=integration.id,
                              platform=integration.platform, local_product_id=product.local_product_id,
                              product_name=product.name)
        db.session.add(mapping)
    changed = (mapping.platform_product_id != platform_id or mapping.is_available != typed["is_available"]
               or (price is None) == bool(mapping.price_overridden)
               or (price is not None and mapping.product_price != price))
    mapping.platform_product_id = platform_id
    mapping.is_available = typed["is_available"]
    mapping.price_overridden = price is not None
    mapping.product_price = price if price is not None else product.price
    if changed:
        mapping.sync_status = SyncStatus.pending   # the platform has not seen this yet
    db.session.flush()
    db.session.refresh(mapping)   # the trigger may have set the inherited price
    return Cell(product, integration, mapping, saved=True)


def unmap(product, integration):
    mapping = cell(product, integration).mapping
    if mapping is not None:
        db.session.delete(mapping)
        db.session.flush()
    return Cell(product, integration, None, saved=True, reset=True)


# --------------------------------------------------------------------------- bulk actions

def _selected_products(product_ids):
    if not product_ids:
        raise MenuError(_("Select at least one product first."), "product_ids")
    products = db.session.scalars(select(Product).where(Product.id.in_(product_ids),
                                                        Product.deleted_at.is_(None))).all()
    if len(products) != len(set(product_ids)):
        raise MenuError(_("Some selected products no longer exist. Reload the page and try again."), "product_ids")
    return products


def map_selected(company, integration, product_ids):
    """Map the selected products that are not on the platform yet, with our id as the platform's id."""
    products = _selected_products(product_ids)
    existing = {mapping.local_product_id for mapping in db.session.scalars(
        select(MenuMapping).where(MenuMapping.integration_config_id == integration.id))}
    taken = set(db.session.scalars(select(MenuMapping.platform_product_id).where(
        MenuMapping.integration_config_id == integration.id)))
    created, skipped = 0, []
    for product in products:
        if product.local_product_id in existing:
            continue
        if product.local_product_id in taken:
            skipped.append(product.local_product_id)
            continue
        db.session.add(MenuMapping(company_id=company.id, integration_config_id=integration.id,
                                   platform=integration.platform, local_product_id=product.local_product_id,
                                   platform_product_id=product.local_product_id, product_name=product.name))
        created += 1
    db.session.flush()
    return created, skipped


def change_prices(company, integration_ids, product_ids, percent_text):
    """Set the selected products' platform prices to their current price ± a percentage (overrides)."""
    products = _selected_products(product_ids)
    try:
        percent = Decimal(str(percent_text).strip().replace(",", ".").replace("%", ""))
    except Exception:
        raise MenuError(_("Enter a percentage such as 5 or -10."), "percent") from None
    if not percent.is_finite() or percent == 0 or abs(percent) > MAX_PERCENT:
        raise MenuError(_("Enter a percentage from -90 to 90 (not 0)."), "percent")
    if not integration_ids:
        raise MenuError(_("Choose the platforms whose prices change."), "platforms")
    quantum = Decimal(1).scaleb(-get_currency_precision(company.currency))
    mappings = db.session.scalars(select(MenuMapping).where(
        MenuMapping.integration_config_id.in_(integration_ids),
        MenuMapping.local_product_id.in_([product.local_product_id for product in products]))).all()
    for mapping in mappings:
        mapping.product_price = (mapping.product_price * (1 + percent / 100)).quantize(quantum, ROUND_HALF_UP)
        mapping.price_overridden = True
        mapping.sync_status = SyncStatus.pending
    db.session.flush()
    return len(mappings)


def reset_prices(integration_ids, product_ids):
    """The selected products' platform prices follow the catalog again."""
    products = _selected_products(product_ids)
    mappings = db.session.scalars(select(MenuMapping).where(
        MenuMapping.integration_config_id.in_(integration_ids),
        MenuMapping.local_product_id.in_([product.local_product_id for product in products]),
        MenuMapping.price_overridden)).all()
    for mapping in mappings:
        mapping.price_overridden = False
        mapping.sync_status = SyncStatus.pending
    db.session.flush()
    return len(mappings)


def copy_mappings(company, source, target, product_ids=None):
    """Copy ids, price overrides, availability and hours from one platform to another.

    Only the selected products (or all when none are selected); returns (created, updated, skipped
    because the platform id is taken on the target by another product).
    """
    if source.id == target.id:
        raise MenuError(_("Choose two different platforms."), "target")
    query = select(MenuMapping).where(MenuMapping.integration_config_id == source.id)
    if product_ids:
        local_ids = [product.local_product_id for product in _selected_products(product_ids)]
        query = query.where(MenuMapping.local_product_id.in_(local_ids))
    sources = db.session.scalars(query).all()
    targets = {mapping.local_product_id: mapping for mapping in db.session.scalars(
        select(MenuMapping).where(MenuMapping.integration_config_id == target.id))}
    taken = {mapping.platform_product_id: mapping.local_product_id for mapping in targets.values()}
    created = updated = skipped = 0
    for original in sources:
        owner = taken.get(original.platform_product_id)
        if owner is not None and owner != original.local_product_id:
            skipped += 1
            continue
        mapping = targets.get(original.local_product_id)
        if mapping is None:
            mapping = MenuMapping(company_id=company.id, integration_config_id=target.id, platform=target.platform,
                                  local_product_id=original.local_product_id, product_name=original.product_name)
            db.session.add(mapping)
            created += 1
        else:
            updated += 1
        mapping.platform_product_id = original.platform_product_id
        mapping.is_available = original.is_available
        mapping.availability_schedule = original.availability_schedule
        mapping.price_overridden = original.price_overridden
        mapping.product_price = original.product_price
        mapping.sync_status = SyncStatus.pending
        taken[original.platform_product_id] = original.local_product_id
    db.session.flush()
    return created, updated, skipped


# --------------------------------------------------------------------------- seen but not mapped

_SEEN_IN_ORDERS = text("""
INSERT INTO platform_products (company_id, integration_config_id, platform, platform_product_id, name, source,
                               times_ordered, last_seen_at)
SELECT o.company_id, o.integration_config_id, o.platform, left(item ->> 'platform_product_id', 100),
       left(max(coalesce(nullif(item ->> 'name', ''), item ->> 'platform_product_id')), 300), 'ORDER',
       count(*), max(o.created_at)
FROM delivery_orders o CROSS JOIN LATERAL jsonb_array_elements(o.order_items) AS item
WHERE o.created_at > :since AND coalesce(item ->> 'platform_product_id', '') <> ''
  AND NOT EXISTS (
    SELECT 1 FROM menu_mappings m
    WHERE m.company_id = o.company_id AND m.integration_config_id = o.integration_config_id
      AND (m.platform_product_id = item ->> 'platform_product_id'
           OR m.local_product_id = coalesce(nullif(item ->> 'local_product_id', ''), item ->> 'platform_product_id')))
GROUP BY o.company_id, o.integration_config_id, o.platform, left(item ->> 'platform_product_id', 100)
ON CONFLICT (company_id, integration_config_id, platform_product_id) DO UPDATE
  SET times_ordered = EXCLUDED.times_ordered,
      last_seen_at = greatest(platform_products.last_seen_at, EXCLUDED.last_seen_at)
""")


def refresh_seen_in_orders(now=None, days=SEEN_DAYS):
    """Record the platform products of the last `days` of orders that no mapping names."""
    now = now or utcnow()
    db.session.execute(_SEEN_IN_ORDERS, {"since": now - timedelta(days=days)})
    db.session.flush()


_SUGGESTIONS = text("""
SELECT pp.id AS platform_product, best.id AS product, best.score
FROM platform_products pp
LEFT JOIN LATERAL (
  SELECT p.id, similarity(lower(p.name), lower(pp.name)) AS score
  FROM products p
  WHERE p.deleted_at IS NULL
  ORDER BY score DESC, p.name LIMIT 1) best ON best.score >= :threshold
WHERE pp.id = ANY(:ids)
""")


_TRIGRAMS = {}
FUZZY_THRESHOLD = 0.7
FUZZY_MAX_PRODUCTS = 5000


def has_trigrams():
    """Whether pg_trgm is installed in this database (checked once per database URL)."""
    url = str(db.engine.url)
    if url not in _TRIGRAMS:
        _TRIGRAMS[url] = db.session.scalar(text("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')"))
    return _TRIGRAMS[url]


def _fuzzy_suggestions(rows):
    """{platform product id: (product id, score 0..1)} by rapidfuzz, where pg_trgm is missing.

    WRatio weighs a name contained in a longer one ("Kunafa" in "Kunafa with Cream") as a strong
    match, where a plain edit ratio preferred any name of similar length ("Karak Tea").
    """
    products = db.session.execute(select(Product.id, Product.name).where(Product.deleted_at.is_(None))
                                  .order_by(Product.name).limit(FUZZY_MAX_PRODUCTS)).all()
    ids, names = [product_id for product_id, _ in products], [name for _, name in products]
    result = {}
    for row in rows:
        best = process.extractOne(row.name or "", names, scorer=fuzz.WRatio, processor=utils.default_process,
                                  score_cutoff=FUZZY_THRESHOLD * 100)
        if best is not None:
            _name, score, index = best
            result[row.id] = (ids[index], score / 100)
    return result


def waiting_platform_products(limit=50):
    """[(PlatformProduct, suggested Product or None, score)]: seen or imported, still not mapped."""
    still_unmapped = ~exists().where(MenuMapping.company_id == PlatformProduct.company_id,
                                     MenuMapping.integration_config_id == PlatformProduct.integration_config_id,
                                     MenuMapping.platform_product_id == PlatformProduct.platform_product_id)
    rows = db.session.scalars(select(PlatformProduct).where(PlatformProduct.dismissed_at.is_(None), still_unmapped)
                              .order_by(PlatformProduct.times_ordered.desc(), PlatformProduct.name)
                              .limit(limit)).all()
    if not rows:
        return []
    if has_trigrams():
        suggestions = {row.platform_product: (row.product, row.score) for row in db.session.execute(
            _SUGGESTIONS, {"ids": [row.id for row in rows], "threshold": SUGGESTION_THRESHOLD})}
    else:
        suggestions = _fuzzy_suggestions(rows)
    products = {product.id: product for product in db.session.scalars(select(Product).where(
        Product.id.in_([product_id for product_id, _ in suggestions.values() if product_id])))}
    return [(row, products.get(suggestions.get(row.id, (None, 0))[0]), suggestions.get(row.id, (None, 0))[1] or 0)
            for row in rows]


def mapped_as(platform_products, products):
    """{product id: platform id} where a suggested product is already mapped on that platform (a remap)."""
    pairs = {(row.integration_config_id, product.local_product_id): product.id
             for row, product in zip(platform_products, products, strict=True) if product is not None}
    if not pairs:
        return {}
    found = db.session.execute(select(MenuMapping.integration_config_id, MenuMapping.local_product_id,
                                      MenuMapping.platform_product_id).where(
        MenuMapping.local_product_id.in_([local_id for _, local_id in pairs]))).all()
    return {pairs[(integration_id, local_id)]: platform_id for integration_id, local_id, platform_id in found
            if (integration_id, local_id) in pairs}


def accept(company, platform_product, product):
    """Map a platform product onto a catalog product (a suggestion accepted, or one chosen by hand).

    When the product is already mapped on that platform under another id, the mapping takes the
    id the platform actually uses in its orders (a remap)."""
    integration = db.session.get(IntegrationConfig, platform_product.integration_config_id)
    existing = cell(product, integration).mapping
    clash = db.session.scalar(select(MenuMapping.local_product_id).where(
        MenuMapping.integration_config_id == integration.id,
        MenuMapping.platform_product_id == platform_product.platform_product_id))
    if clash is not None:
        raise MenuError(_("%(id)s is already mapped to product %(product)s.", id=platform_product.platform_product_id,
                          product=clash), "product_id")
    if existing is not None:
        existing.platform_product_id = platform_product.platform_product_id
        existing.sync_status = SyncStatus.pending
        db.session.flush()
        return existing
    mapping = MenuMapping(company_id=company.id, integration_config_id=integration.id, platform=integration.platform,
                          local_product_id=product.local_product_id,
                          platform_product_id=platform_product.platform_product_id, product_name=product.name)
    if platform_product.price is not None and platform_product.price != product.price:
        mapping.product_price, mapping.price_overridden = platform_product.price, True
    db.session.add(mapping)
    db.session.flush()
    return mapping


def dismiss(platform_product):
    platform_product.dismissed_at = utcnow()
    db.session.flush()


def products_for_choice():
    """(id, name, local id) of every catalog product, for the 'map to…' choice."""
    return db.session.execute(select(Product.id, Product.name, Product.local_product_id)
                              .where(Product.deleted_at.is_(None)).order_by(Product.name)).all()
