from django.http import HttpResponse


def dashboard(request):
    return HttpResponse("staff")


def ticket(request, number):
    return HttpResponse("ticket")
