from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    roles = models.CharField(max_length=200, default="agent")
    teams = models.CharField(max_length=200, default="")
    segments = models.CharField(max_length=200, default="consumer")
    shift = models.JSONField(null=True)


class Customer(models.Model):
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=200)
    phone = models.CharField(max_length=50)
    segment = models.CharField(max_length=20, default="consumer")
    vip = models.BooleanField(default=False)


class Ticket(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    queue = models.CharField(max_length=50)
    status = models.IntegerField(default=1)  # django-helpdesk: Open 1, Reopened 2, Resolved 3, Closed 4
    created = models.DateTimeField()
    closed = models.DateTimeField(null=True)
