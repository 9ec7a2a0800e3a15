// "Customer" in the interaction panel (seed 004): who is writing — signed in with the bank (and
// what its claim mapping shows), Recognized (related to a contact of the customer base) or
// anonymous — and, for those who may, relating them to a contact found as you type, or
// recording a new contact (first and last name, an e-mail or a phone, company, address).
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { createContact, relateContact, searchContacts, type ContactCard, type NewContact } from "../actions";
import { _ } from "../i18n";
import type { Conversation } from "../store";

const EMPTY: NewContact = { first_name: "", last_name: "", email: "", phone: "", company: "", address: "" };

function Card({ contact }: { contact: ContactCard }) {
  const rows = [[_("E-mail"), contact.email], [_("Phone"), contact.phone], [_("Company"), contact.company],
                [_("Address"), contact.address]].filter(([, value]) => value);
  return (
    <dl class="contact-card" id="contact-card">
      {rows.map(([label, value]) => <div key={label}><dt>{label}</dt><dd>{value}</dd></div>)}
    </dl>
  );
}

function NewContactForm({ c, onDone }: { c: Conversation; onDone: () => void }) {
  const fields = useSignal<NewContact>(EMPTY);
  const error = useSignal("");
  const field = (name: keyof NewContact, label: string, type: "text" | "email" | "tel" = "text", required = false) => (
    <label class="field">
      <span>{label}{required && " *"}</span>
      <input type={type as "text"} id={`contact-${name}`} value={fields.value[name] ?? ""} required={required}
             onInput={(e) => { fields.value = { ...fields.value, [name]: e.currentTarget.value }; }} />
    </label>
  );
  return (
    <form class="contact-new" id="contact-new" aria-label={_("New contact")}
          onSubmit={async (e) => {
            e.preventDefault();
            error.value = "";
            if (!fields.value.email?.trim() && !fields.value.phone?.trim()) {  // the server says so too
              error.value = _("A contact needs an e-mail address or a phone number.");
              return;
            }
            try {
              await createContact(c.id, fields.value);
              onDone();
            } catch (failure) {
              error.value = failure instanceof Error ? failure.message : String(failure);
            }
          }}>
      {field("first_name", _("First name"), "text", true)}
      {field("last_name", _("Last name"), "text", true)}
      {field("email", _("E-mail"), "email")}
      {field("phone", _("Phone"), "tel")}
      <p class="hint">{_("An e-mail or a phone is needed.")}</p>
      {field("company", _("Company"))}
      {field("address", _("Address"))}
      <p class="form-error" role="alert">{error.value}</p>
      <div class="row">
        <button type="submit" class="button primary" id="contact-save">{_("Save and relate")}</button>
        <button type="button" class="button" onClick={onDone}>{_("Cancel")}</button>
      </div>
    </form>
  );
}

export function CustomerPanel({ c, mayRelate }: { c: Conversation; mayRelate: boolean }) {
  const q = useSignal("");
  const found = useSignal<ContactCard[]>([]);
  const creating = useSignal(false);
  const error = useSignal("");
  const customer = c.customer;
  const contact = customer.contact;

  useEffect(() => { q.value = ""; found.value = []; creating.value = false; error.value = ""; }, [c.id]);
  useEffect(() => {  // search as you type, the latest answer only
    const words = q.value.trim();
    if (words.length < 2) { found.value = []; return; }
    let current = true;
    const timer = setTimeout(() => {
      searchContacts(words).then((cards) => { if (current) found.value = cards; })
        .catch((failure: Error) => { if (current) error.value = failure.message; });
    }, 200);
    return () => { current = false; clearTimeout(timer); };
  }, [q.value]);

  const badge = customer.authenticated ? _("Signed in with the bank") : contact ? _("Recognized") : _("Anonymous");
  return (
    <section class="customer-panel" id="customer-panel" aria-labelledby="customer-title">
      <h3 id="customer-title">{_("Customer")}</h3>
      <p>
        <strong id="customer-name">{customer.name}</strong>{" "}
        <span class={`badge-pill${contact || customer.authenticated ? " known" : ""}`} id="customer-badge">{badge}</span>
      </p>
      {customer.details.length > 0 && (
        <dl class="contact-card">
          {customer.details.map((d) => <div key={d.label}><dt>{d.label}</dt><dd>{d.value}</dd></div>)}
        </dl>
      )}
      {contact && <Card contact={contact} />}
      {mayRelate && !creating.value && (
        <div class="contact-relate">
          <label for="contact-search">{contact ? _("Relate to another contact") : _("Relate to a contact")}</label>
          <input id="contact-search" type="search" autocomplete="off" value={q.value}
                 placeholder={_("Name, e-mail or phone…")} aria-controls="contact-matches"
                 onInput={(e) => { q.value = e.currentTarget.value; error.value = ""; }} />
          <ul class="plain contact-matches" id="contact-matches">
            {found.value.map((card) => (
              <li key={card.id}>
                <button type="button" class="link-button" data-id={card.id}
                        onClick={() => relateContact(c.id, card.id).then(() => { q.value = ""; })
                          .catch((failure: Error) => { error.value = failure.message; })}>
                  {card.name}
                </button>
                <span class="hint"> {[card.email, card.phone, card.company].filter(Boolean).join(" · ")}</span>
              </li>
            ))}
            {q.value.trim().length >= 2 && !found.value.length && <li class="hint">{_("No contact found.")}</li>}
          </ul>
          <button type="button" class="button" id="contact-add" onClick={() => { creating.value = true; }}>
            + {_("New contact")}
          </button>
          <p class="form-error" role="alert">{error.value}</p>
        </div>
      )}
      {mayRelate && creating.value && <NewContactForm c={c} onDone={() => { creating.value = false; }} />}
    </section>
  );
}
