"""RQ CronScheduler configuration: `rq cron jobs/schedule.py` loads this file.

The cron job only enqueues the cycle's chain; the steps run on the workers.
"""
from rq import cron

from db.config import get_settings
from jobs.cycle import start_cycle
from jobs.queue import QUEUE_NAME

cron.register(start_cycle, QUEUE_NAME, cron=get_settings().cycle_cron, name="hourly-cycle")
