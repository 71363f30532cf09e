"""A company's loyalty programs have different names (ignoring case).

Programs created before this rule may share a name; the later ones get " (2)", " (3)"... so the
index can be built without losing a program.
"""
from alembic import op

revision = "0011_loyalty_program_names"
down_revision = "0010_loyalty_due_role"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
    UPDATE loyalty_programs AS program
       SET name = left(program.name, 190) || ' (' || numbered.n || ')'
      FROM (SELECT id, row_number() OVER (PARTITION BY company_id, lower(name) ORDER BY created_at, id) AS n
              FROM loyalty_programs) AS numbered
     WHERE numbered.id = program.id AND numbered.n > 1;
    CREATE UNIQUE INDEX uq_loyalty_programs_name ON loyalty_programs (company_id, lower(name));
    """)


def downgrade():
    op.execute("DROP INDEX IF EXISTS uq_loyalty_programs_name")
