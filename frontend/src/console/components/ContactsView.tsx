// The Contacts page: the customers you may see (signed-in ones, and guests while barred),
// which are barred, why and by whom, how many messages were dropped; supervisors and
// administrators lift a bar here.
import { useSignal } from "@preact/signals";
import { loadContacts, showError, unbar } from "../actions";
import { _, locale } from "../i18n";
import { contactFilters, contactList, managesContacts } from "../store";

const day = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric" });

export function ContactsView() {
  const q = useSignal(contactFilters.value.q ?? "");
  const barredOnly = useSignal(Boolean(contactFilters.value.barred));
  const list = contactList.value;
  const apply = (e: Event) => {
    e.preventDefault();
    contactFilters.value = { q: q.value.trim() || undefined, barred: barredOnly.value ? true : undefined };
    loadContacts(true).catch(showError);
  };
  return (
    <section class="cases" id="contacts" aria-labelledby="contacts-title">
      <h2 id="contacts-title">{_("Contacts")}</h2>
      <form class="case-filters" id="contact-filters" onSubmit={apply} role="search" aria-label={_("Find contacts")}>
        <label>{_("Search")}
          <input type="search" id="contact-q" placeholder={_("Customer name")} value={q.value} maxLength={100}
                 onInput={(e) => { q.value = e.currentTarget.value; }} />
        </label>
        <label class="checkbox">
          <input type="checkbox" id="contact-barred" checked={barredOnly.value}
                 onChange={(e) => { barredOnly.value = e.currentTarget.checked; }} /> {_("Barred only")}
        </label>
        <button type="submit" class="button" id="contact-find">{_("Find")}</button>
      </form>
      <table class="case-table" id="contacts-table">
        <thead>
          <tr><th scope="col">{_("Customer")}</th><th scope="col">{_("Barred")}</th><th scope="col">{_("Reason")}</th>
              <th scope="col">{_("Dropped messages")}</th><th scope="col"><span class="visually-hidden">{_("Actions")}</span></th></tr>
        </thead>
        <tbody>
          {list.contacts.map((c) => (
            <tr key={c.id} data-id={c.id} class={c.barred ? "barred" : undefined}>
              <th scope="row">{c.name}{c.authenticated ? "" : ` (${_("guest")})`}
                {c.email && <span class="hint"> · {c.email}</span>}</th>
              <td>{c.barred ? `${day.format(new Date(c.barred_at!))} · ${c.barred_by}` : "—"}</td>
              <td>{c.bar_reason || "—"}</td>
              <td>{c.barred || c.dropped_messages ? c.dropped_messages : "—"}</td>
              <td>{c.barred && managesContacts.value && (
                <button type="button" class="button" data-unbar={c.id}
                        onClick={() => { if (confirm(_("Lift the bar? The customer can write again."))) unbar(c.id).catch(showError); }}>
                  {_("Lift bar")}
                </button>
              )}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.loaded && !list.contacts.length && <p class="hint" id="contacts-empty">{_("Nobody here.")}</p>}
      {list.nextBeforeId !== null && (
        <button type="button" class="button" id="contacts-more" onClick={() => loadContacts(false).catch(showError)}>
          {_("More contacts")}
        </button>
      )}
    </section>
  );
}
