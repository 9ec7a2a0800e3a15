// Demo only: signs in as a demo customer, then returns to the chat (stands in for SSO).
import { api } from "./socket.js";

for (const button of document.querySelectorAll("button[data-subject]")) {
  button.addEventListener("click", async () => {
    try {
      const session = await api("/customer/sessions/demo", { method: "POST", body: { subject: button.dataset.subject } });
      sessionStorage.setItem("branchline.customer-token", session.token);
      location.href = "/chat/";
    } catch (error) {
      document.getElementById("error").textContent = error.message;
    }
  });
}
