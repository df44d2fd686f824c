"""Thunderbird itself, headless, driven through Marionette: it opens our calendar attachments.

``Thunderbird.start()`` runs Debian's ``thunderbird`` with ``--headless --marionette`` on a
fresh temporary profile (its ``user.js`` turns off the account wizard, the default-client
check, the start page, updates, telemetry and every network request) and connects with
``marionette_driver``. ``open_attachment`` then does what the message's event bar
(``imip-bar.js``) does when a message with a calendar attachment is opened and the patient
clicks the button it offers: Thunderbird's own ``cal.itip.initItemFromMsgData``,
``processItipItem`` (which finds the event by UID and decides between "Add", "Update" and
nothing: ``processFoundItems``) and ``executeAction``; then it reads the events back from the
calendar. ``stop()`` ends the process group and removes the profile.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

TIMEOUT = 60  # seconds for Thunderbird to answer on its Marionette port
SCRIPT_TIMEOUT = 20  # seconds for one script run inside Thunderbird

PREFS = {
    "mail.provider.suppress_dialog_on_startup": True,  # no account wizard
    "mail.shell.checkDefaultClient": False,
    "mailnews.start_page.enabled": False,
    "mail.rights.version": 1,  # no "know your rights" bar
    "mail.spotlight.firstRunDone": True,
    "mail.winsearch.firstRunDone": True,
    "mail.startup.enabledMailCheckOnce": True,
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "app.update.checkInstallTime": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.server": "",
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "browser.safebrowsing.update.enabled": False,
    "mailnews.auto_config_url": "",
    "mail.cloud_files.enabled": False,
    # the calendar's own zone, whatever the machine's (events keep the TZID they came with)
    "calendar.timezone.useSystemTimezone": False,
    "calendar.timezone.local": "Europe/London",
}

# a patient's email account, whose identity Thunderbird uses for its calendars (iTIP needs one)
SETUP = """
const [email, resolve] = arguments;
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const server = MailServices.accounts.createIncomingServer("patient", "mail.invalid", "none");
const identity = MailServices.accounts.createIdentity();
identity.email = email;
const account = MailServices.accounts.createAccount();
account.incomingServer = server;
account.addIdentity(identity);
resolve({ version: Services.appinfo.version, identity: identity.key });
"""

# a fresh local calendar (memory) as the only one registered, with the patient's identity
NEW_CALENDAR = """
const [name, identityKey, resolve] = arguments;
const { cal } = ChromeUtils.importESModule("resource:///modules/calendar/calUtils.sys.mjs");
for (const old of cal.manager.getCalendars()) {
  cal.manager.unregisterCalendar(old);
}
const calendar = cal.manager.createCalendar("memory", Services.io.newURI("moz-memory-calendar://"));
calendar.name = name;
calendar.setProperty("imip.identity.key", identityKey);
cal.manager.registerCalendar(calendar);
resolve(cal.manager.getCalendars().map(c => `${c.type}:${c.name}`));
"""

# what the event bar does for a message with a calendar attachment (imip-bar.js: showImipBar,
# setupOptions), then the click on the button it offers (cal.itip.executeAction: promptCalendar,
# then the action with an operation listener). The listener keeps each operation's result as
# the bar's text (getCompleteText) where Thunderbird would also show an alert for a failure,
# which nobody could dismiss in a headless run.
OPEN = """
const [text, method, resolve] = arguments;
const { cal } = ChromeUtils.importESModule("resource:///modules/calendar/calUtils.sys.mjs");
const later = ms => new Promise(r => setTimeout(r, ms));
(async () => {
  const win = Services.wm.getMostRecentWindow("mail:3pane");
  const itipItem = Cc["@mozilla.org/calendar/itip-item;1"].createInstance(Ci.calIItipItem);
  itipItem.init(text);
  cal.itip.initItemFromMsgData(itipItem, method, null);
  const [rc, actionFunc, found] = await new Promise(r =>
    cal.itip.processItipItem(itipItem, (item, rc, action, found) => r([rc, action, found]))
  );
  const options = cal.itip.getOptionsText(itipItem, rc, actionFunc, found);
  const result = {
    method: itipItem.receivedMethod,
    bar: options.label,
    buttons: options.showItems.filter(b => b != "imipMoreButton"),
    offered: actionFunc ? actionFunc.method : null,
    done: [],
    failed: [],
  };
  if (actionFunc && cal.itip.promptCalendar(actionFunc.method, itipItem, win)) {
    actionFunc({
      onOperationComplete(calendar, status, type, id, detail) {
        result.done.push(cal.itip.getCompleteText(status, type));
        if (!Components.isSuccessCode(status)) {
          result.failed.push(String(detail.message || detail));
        }
      },
    }, "");
    // each operation reports once; wait until no more come
    for (let seen = -1; seen != result.done.length; ) {
      seen = result.done.length;
      await later(100);
    }
  }
  cal.itip.cleanupItipItem(itipItem);
  const [calendar] = cal.manager.getCalendars();
  const all = Ci.calICalendar.ITEM_FILTER_ALL_ITEMS;
  const items = await calendar.getItemsAsArray(all, 0, null, null);
  result.events = items.map(e => ({
    uid: e.id,
    kind: e.getProperty("X-MESOCARE-EVENT"),
    start: e.startDate.icalString,
    zone: e.startDate.timezone.tzid,
    sequence: e.getProperty("SEQUENCE"),
    stamp: e.stampTime.icalString,
    received: e.getProperty("X-MOZ-RECEIVED-SEQUENCE"),
    description: e.getProperty("DESCRIPTION"),
  }));
  return result;
})().then(resolve, e => resolve({ error: `${e}\\n${e.stack}` }));
"""


class ThunderbirdFailed(RuntimeError):
    """Thunderbird is installed but did not start or answer; the message says why."""


@dataclass
class Thunderbird:
    executable: str
    profile: Path | None = None
    process: subprocess.Popen | None = None
    log: IO[bytes] | None = None
    client: Any = None  # marionette_driver's Marionette, imported when started
    version: str = ""
    identity: str = ""

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def start(self, email: str = "ana@example.com") -> Thunderbird:
        from marionette_driver.marionette import Marionette

        self.profile = Path(tempfile.mkdtemp(prefix="mesocare-thunderbird-"))
        port = self._free_port()
        lines = [f"user_pref({json.dumps(k)}, {json.dumps(v)});" for k, v in PREFS.items()]
        lines.append(f'user_pref("marionette.port", {port});')
        (self.profile / "user.js").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.log = (self.profile / "thunderbird.log").open("wb")
        env = {**os.environ, "MOZ_HEADLESS": "1", "MOZ_CRASHREPORTER_DISABLE": "1"}
        command = [self.executable, "--headless", "--marionette", "-remote-allow-system-access"]
        command += ["--no-remote", "--profile", str(self.profile)]
        self.process = subprocess.Popen(
            command,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, ended whole by stop()
        )
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise ThunderbirdFailed(
                    f"thunderbird exited with code {self.process.returncode} before Marionette "
                    f"answered: {self._log_tail()}"
                )
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise ThunderbirdFailed(
                        f"Marionette did not answer on port {port} within {TIMEOUT} s: "
                        f"{self._log_tail()}"
                    ) from None
                time.sleep(0.1)
        self.client = client = Marionette(host="127.0.0.1", port=port, socket_timeout=TIMEOUT)
        client.start_session(timeout=TIMEOUT)
        client.set_context(client.CONTEXT_CHROME)
        client.timeout.script = SCRIPT_TIMEOUT
        answer = self.run(SETUP, email)
        self.version, self.identity = answer["version"], answer["identity"]
        return self

    def _log_tail(self) -> str:
        if self.profile is None or not (self.profile / "thunderbird.log").exists():
            return "(no output)"
        text = (self.profile / "thunderbird.log").read_text(errors="replace")
        noise = ("Gtk-", "glib warning")  # a headless GTK's complaints, on every start
        lines = [line for line in text.splitlines() if line.strip()]
        lines = [line for line in lines if not any(n in line for n in noise)]
        return " | ".join(lines[-8:]) or "(no output)"

    def run(self, script: str, *args):
        answer = self.client.execute_async_script(script, script_args=list(args))
        if isinstance(answer, dict) and "error" in answer:
            raise ThunderbirdFailed(f"a script in Thunderbird failed: {answer['error']}")
        return answer

    def new_calendar(self, name: str) -> list[str]:
        """Unregister every calendar and register one new local (memory) calendar."""
        return self.run(NEW_CALENDAR, name, self.identity)

    def open_attachment(self, text: str, method: str | None) -> dict:
        """The event bar on a message whose attachment is ``text`` (iCalendar) with the
        Content-Type ``method`` parameter; the patient clicks the button offered, if any."""
        return self.run(OPEN, text, method or "nomethod")

    def stop(self) -> None:
        if self.client is not None:
            try:
                self.client.delete_session()
            except Exception:  # noqa: BLE001 - the process group ends below anyway
                pass
        if self.process is not None:
            try:  # the whole group: Thunderbird and its content processes
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self.log is not None:
            self.log.close()
        if self.profile is not None:
            shutil.rmtree(self.profile, ignore_errors=True)
