"""Delivery: the outbox worker that sends what storage queued, with retries (DESIGN §7)."""

from bot.delivery.lifecycle import WAKE_KEY, attach_worker, stop_worker, worker_of
from bot.delivery.limiter import BULK, TelegramLimiter
from bot.delivery.pacing import FloodGate, Pacer
from bot.delivery.policy import DeliveryPolicy
from bot.delivery.worker import DeliveryWorker, Outcome

__all__ = [
    "BULK",
    "WAKE_KEY",
    "DeliveryPolicy",
    "DeliveryWorker",
    "FloodGate",
    "Outcome",
    "Pacer",
    "TelegramLimiter",
    "attach_worker",
    "stop_worker",
    "worker_of",
]
