"""Settings read once from the environment, so every process (web, worker, scheduler) agrees."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """The whole configuration table of the README lives here."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "data", alias="DEMETRA_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", alias="REDIS_URL")
    reporting_currency: str = Field(default="USD", alias="DEMETRA_REPORTING_CURRENCY")
    reporting_timezone: str = Field(default="UTC", alias="DEMETRA_TIMEZONE")
    cache_timeout: int = Field(default=300, alias="DEMETRA_CACHE_TIMEOUT")
    cache_type: str = Field(default="auto", alias="DEMETRA_CACHE")  # auto | redis | simple | off
    queue_mode: str = Field(default="auto", alias="DEMETRA_QUEUE_MODE")  # auto | redis | inline
    cycle_cron: str = Field(default="0 * * * *", alias="DEMETRA_CYCLE_CRON")
    demo_seed: int = Field(default=42, alias="DEMETRA_DEMO_SEED")
    demo_days: int = Field(default=365, alias="DEMETRA_DEMO_DAYS")
    demo_scale: float = Field(default=1.0, alias="DEMETRA_DEMO_SCALE")
    #: The transformers model that writes recommendations: unset = modeling.llm's default,
    #: "none" = the facts' own sentences.
    llm_model: str | None = Field(default=None, alias="DEMETRA_LLM_MODEL")
    #: Unset: local mode, anyone who can open the app may change sources. Set: changes ask for it.
    admin_token: SecretStr | None = Field(default=None, alias="DEMETRA_ADMIN_TOKEN")

    @property
    def sqlalchemy_url(self) -> str:
        """An unset DATABASE_URL means the embedded SQLite file, so the app runs anywhere."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgres://"):
                url = "postgresql://" + url[len("postgres://"):]
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            return url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'demetra.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
