"""A small helpdesk project for the Django integration tests."""

import os
import tempfile

BASE = tempfile.mkdtemp(prefix="tg-django-")
SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "djangoproject.helpdesk",
    "ticketgate.django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ticketgate.django.TicketgateMiddleware",
]
INSTALLED_APPS.insert(2, "django.contrib.sessions")
ROOT_URLCONF = "djangoproject.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(BASE, "db.sqlite3")}}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
TICKETGATE = {
    "velocity_store": f"sqlite://{os.path.join(BASE, 'velocity.db')}",
    "audit_log": os.path.join(BASE, "audit") + "/",
    "client": "helpdesk-web",
}
