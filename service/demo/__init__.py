"""`flask demo seed`: the demo discom used by the demo, the tests and the benchmarks."""

import click
from flask import Flask


def init_app(app: Flask) -> None:
    group = click.Group("demo", help="The demo discom.")

    @group.command("seed")
    @click.option("--consumers", default=10_000, show_default=True, type=click.IntRange(100, 2_000_000))
    @click.option("--seed", "seed_value", default=42, show_default=True, type=int)
    def seed(consumers: int, seed_value: int) -> None:
        """Build a deterministic demo discom (refuses to run on a seeded database)."""
        from service.demo.seed import is_seeded, seed_demo
        from service.unit_of_work import unit_of_work

        with unit_of_work() as uow:
            if is_seeded(uow.session):
                raise click.ClickException("the database already holds master data; use a fresh one")
            result = seed_demo(uow.session, consumers=consumers, seed=seed_value)
            uow.commit()
        click.echo(result.describe())

    app.cli.add_command(group)
