from django.http import HttpResponse


def home(request):
    return HttpResponse("portal")


def access(request, token):
    return HttpResponse("access")
