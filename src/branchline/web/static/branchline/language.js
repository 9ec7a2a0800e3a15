// The reader's language menu (widget and console, docs/protocol.md §18): the languages the
// server offers (the page's #language-choices), the current one chosen; a choice is kept in
// Django's language cookie for a year and the page reloads in it. Without the cookie (a widget
// framed on a site whose browser refuses third-party cookies) the browser's languages decide.
const COOKIE = "django_language";

export function languageChoices() {
  const node = document.getElementById("language-choices");
  return node ? JSON.parse(node.textContent) : [];
}

export function currentLanguage() {
  return document.documentElement.lang || "en";
}

export function chooseLanguage(code) {
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${COOKIE}=${encodeURIComponent(code)}; Path=/; Max-Age=${365 * 24 * 3600}; SameSite=Lax${secure}`;
  location.reload();
}

// Fill a <select> with the choices and make it switch the page's language.
export function languageMenu(select) {
  for (const { code, name } of languageChoices()) {
    const option = document.createElement("option");
    option.value = code;
    option.textContent = name;
    option.lang = code;
    option.selected = code === currentLanguage();
    select.append(option);
  }
  select.addEventListener("change", () => chooseLanguage(select.value));
}
