"""After-commit effects wait for the outermost commit: a savepoint's release neither runs nor
drops them, and a savepoint's rollback drops only what was registered inside it."""
from sqlalchemy import text

from reflexion.effects import after_commit


def test_a_released_savepoint_does_not_run_the_outer_transactions_effects(db):
    ran = []
    db.session.execute(text("select 1"))
    after_commit(ran.append, "outer")
    with db.session.begin_nested():
        after_commit(ran.append, "inner")
    assert ran == []  # SQLAlchemy fires after_commit for the savepoint: nothing may run yet
    db.session.commit()
    assert ran == ["outer", "inner"]


def test_a_rolled_back_savepoint_drops_only_its_own_effects(db):
    ran = []
    db.session.execute(text("select 1"))
    after_commit(ran.append, "outer")
    try:
        with db.session.begin_nested():
            after_commit(ran.append, "inner")
            raise RuntimeError("conflict")
    except RuntimeError:
        pass
    with db.session.begin_nested():
        after_commit(ran.append, "later")
    db.session.commit()
    assert ran == ["outer", "later"]


def test_a_rollback_drops_every_effect(db):
    ran = []
    db.session.execute(text("select 1"))
    after_commit(ran.append, "outer")
    with db.session.begin_nested():
        after_commit(ran.append, "inner")
    db.session.rollback()
    db.session.commit()
    assert ran == []
