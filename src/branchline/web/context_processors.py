"""What every page's template needs: the languages the reader may choose (each named in itself,
"polski", "русский"), for the language menus of the widget and the console."""
from django.conf import settings
from django.utils.translation import get_language_info


def languages(request) -> dict:
    return {"language_choices": [{"code": code, "name": get_language_info(code)["name_local"]}
                                 for code, _name in settings.LANGUAGES]}
