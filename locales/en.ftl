# opsbot — English. Variables holding user or alert text arrive HTML-escaped.

## roles and states
role-viewer = viewer
role-responder = responder
role-approver = approver
role-admin = admin
state-triggered = TRIGGERED
state-acknowledged = ACKNOWLEDGED
state-resolved = RESOLVED
kind-silence = silence
kind-maintenance = maintenance
default = default
required = (required)

## generic
error-generic = ⚠️ Something went wrong handling that. It has been logged; please try again.
button-unknown = This button is no longer valid.
refused-role = ⛔ This needs the <b>{ $role }</b> role (you are { $yours }).

## /start /help /status /lang
start = 👋 Hi { $name }. I am opsbot: alerts, acknowledgements, escalation and runbooks for this team. Your role: <b>{ $role }</b>. Send /help for what you can do.
start-private = You will get pages here when you are on call{ $subscribed ->
    [yes] , and every new incident of <b>{ $level }</b> or worse, with the same buttons as in the group. Change it with /notify P1 (P0 and P1 only) or /notify off.
   *[no] . New incidents are not sent here; /notify on turns them on.
}
start-private-stranger = You are not in this team's people list, so I send you no incidents. Ask an admin to add your Telegram id <code>{ $id }</code>.
notify-usage = Usage: /notify on | off | P0 | P1 | P2 | P3 (new incidents of that severity or worse). Now: { $state }
notify-state = { $level ->
    [off] off — only pages when you are on call
    [P3] every new incident
   *[other] new incidents of <b>{ $level }</b> or worse
}
notify-set = 🔔 Private notifications: { $state }.
notify-private-only = Send /notify to me in a private chat; it sets what I send you there.
notify-stranger = You are not in this team's people list, so I cannot send you incidents.
help-title = <b>Commands for your role ({ $role })</b>
help-start = introduce the bot
help-help = this list
help-status = health of the bot and open incidents
help-lang = language of this chat: /lang en|ar
help-incidents = open incidents by severity
help-incident = details and timeline: /incident INC-n
help-oncall = who is on call now and next
help-runbooks = runbooks you may run
help-runbook = what a runbook does: /runbook id
help-silences = active silences and maintenance windows
help-stats = response statistics: /stats [7d|30d]
help-ack = acknowledge: /ack INC-n
help-resolve = resolve: /resolve INC-n [note]
help-escalate = page the next level now: /escalate INC-n
help-note = add a note: /note INC-n text
help-update = post a status update: /update INC-n text
help-sev = change severity: /sev INC-n P0..P3
help-assign = assign: /assign INC-n [person]
help-silence = silence by labels: /silence 2h service=api
help-declare = open an incident by hand
help-cancel = leave a guided conversation
help-run = run a runbook: /run id key=value …
help-postmortem = postmortem draft: /postmortem INC-n
help-maintenance = maintenance window: /maintenance 2h [labels]
help-override = on-call override: /override schedule person 4h
help-audit = audit log: /audit [n]
help-notify = incidents in your private chat: /notify on|off|P0..P3
status-title = <b>opsbot status</b>
status-ok = ✅ OK
status-down = ❌ DOWN
status-redis = Redis: { $state }
status-telegram = Bot API: { $state }
status-version = Version { $version } · up { $uptime }
status-open = Open incidents: <b>{ $count }</b>
status-oldest = Oldest unacknowledged: <code>{ $id }</code> { $title } ({ $age })
status-maintenance = 🛠 Maintenance until { $until }: { $matchers }
lang-usage = Usage: /lang en or /lang ar
lang-set = ✅ This chat now speaks English.

## incident messages
inc-alerts = 🔔 { $count } alert(s), { $firing } firing · started { $started }
inc-acked-by = 👀 Acknowledged by <b>{ $who }</b> at { $at }
inc-assignee = 👤 Assignee: { $who }
inc-resolved-by = ✅ Resolved by { $who } at { $at } · lasted { $duration }
inc-paged = 📣 Level { $level } · paged: { $who }
inc-silenced-until = 🔕 Silenced until { $until }
inc-breached = ⏰ Response target breached
btn-ack = ✅ Acknowledge
btn-unack = ↩️ Unacknowledge
btn-resolve = 🟢 Resolve
btn-escalate = ⬆️ Escalate
btn-silence = 🔕 Silence
btn-details = ℹ️ Details
btn-runbooks = 📒 Runbooks
btn-silence-1h = 1 hour
btn-silence-4h = 4 hours
btn-silence-24h = 24 hours
btn-silence-resolved = Until resolved
btn-back = ◀ Back
btn-approve = ✅ Approve
btn-reject = ❌ Reject
btn-confirm = ✅ Open incident
btn-cancel = ✖ Cancel
btn-expire = 🗑 Expire
page-header = 📟 <b>You are paged</b> (escalation level { $level })
page-header-chat = 📟 <b>Escalation level { $level }</b>: still not acknowledged
page-dm-failed = 📟 { $mention } is paged for <code>{ $id }</code> but has never started a private chat with me, so I could not DM them. Please open a chat with the bot and press Start.
digest-title = 🌩 <b>Alert storm: { $count } new incidents</b>
digest-more = … and { $count } more
digest-hint = Use /incidents to list them all; each incident can be acknowledged with /ack INC-n.
breach-announce = ⏰ <code>{ $id }</code> ({ $severity }) was not acknowledged within its { $target } response target: { $title }
remind-update = 📝 { $who }, <code>{ $id }</code> has had no update for { $since } (cadence: every { $every }). Please post /update { $id } text.

## incident actions
did-ack = 👀 { $who } acknowledged <code>{ $id }</code>.
did-unack = ↩️ { $who } returned <code>{ $id }</code> to triggered.
did-resolve = ✅ { $who } resolved <code>{ $id }</code>.
did-escalate = ⬆️ { $who } escalated <code>{ $id }</code> to the next level.
did-silence = 🔕 { $who } silenced <code>{ $id }</code>.
did-note = 📝 Note added to <code>{ $id }</code>.
did-sev = 🎚 <code>{ $id }</code> is now { $sev }.
did-assign = 👤 <code>{ $id }</code> is assigned to { $assignee }.
did-update = 📣 Update for <code>{ $id }</code> posted.
inc-unknown = ❓ No incident { $id }.
inc-already = Nothing to do: <code>{ $id }</code> is already in that state.
inc-already-acked = Already acknowledged by { $who } at { $at } (<code>{ $id }</code>).
inc-already-resolved = <code>{ $id }</code> is already resolved.
inc-invalid-state = <code>{ $id }</code> is { $state }; that action does not apply.
inc-no-policy = <code>{ $id }</code> has no escalation policy for its severity.
need-incident-id = Which incident? Use /{ $cmd } INC-n, or reply to the incident message.
note-usage = Usage: /note INC-n text (or reply to the incident message)
sev-usage = Usage: /sev INC-n P0|P1|P2|P3
assign-usage = Usage: /assign INC-n [person]
assign-unknown = Unknown person { $who }. Known: { $people }
details-opened = Opened { $at }
details-tta = Time to acknowledge: { $d }
details-ttr = Time to resolve: { $d }
details-timeline = <b>Timeline</b>
incidents-none = ✅ No open incidents.
incidents-title = <b>Open incidents: { $count }</b> (page { $page }/{ $pages })

## silences, maintenance, on-call
silence-usage = Usage: /silence 2h key=value [key=~regex] [reason]  (at least one matcher)
maintenance-usage = Usage: /maintenance 2h [key=value …] [reason]
matcher-bad = Not a label matcher: <code>{ $token }</code> (use key=value, key!=value, key=~regex)
silence-created = 🔕 Silence <code>{ $id }</code> for { $matchers } until { $until }. Incidents are still recorded.
maintenance-created = 🛠 Maintenance <code>{ $id }</code> for { $matchers } until { $until }: no notifications or escalation.
silences-none = No active silences or maintenance windows.
silences-title = <b>Active silences</b>
silences-line = • { $kind } { $matchers } until { $until } (by { $by })
silence-expired = Expired.
silence-gone = Already gone.
oncall-none = No schedules are configured.
oncall-title = <b>On call</b>
oncall-line = • <b>{ $schedule }</b>: { $who }{ $override } until { $until } · next { $next } from { $from }
oncall-override = (override)
override-usage = Usage: /override schedule person 4h. Schedules: { $schedules }. People: { $people }
override-set = ✅ { $who } is on call for { $schedule } until { $until }.

## /declare
declare-ask-title = 🆕 What is broken? Reply with a short title.
declare-ask-severity = How bad is it?
declare-ask-service = Which service is affected? Reply with its name, or - for none.
declare-confirm = Open this incident?
    <b>{ $title }</b>
    Severity: { $severity } · Service: { $service }
declare-cancelled = Declaration cancelled.
declare-nothing = Nothing to cancel.
declare-not-yours = This conversation is not yours or has ended.
declare-done = 🆕 Opened <code>{ $id }</code>.
sev-meaning-P0 = P0 critical: outage, data loss, breach
sev-meaning-P1 = P1 high: major function impaired
sev-meaning-P2 = P2 medium: minor function impaired
sev-meaning-P3 = P3 low: cosmetic, next business day

## runbooks
runbooks-none = No runbooks are available.
runbooks-title = <b>Runbooks you may run ({ $count })</b>
runbooks-title-viewer = <b>Runbooks ({ $count })</b> — viewers can read, not run
runbook-unknown = ❓ No runbook { $id }. Known: { $ids }
runbook-kind = Kind: { $kind } · may be requested by: { $role }
runbook-approval = 🔐 Needs { $n } approval(s) by { $role } (not the requester)
runbook-no-approval = Runs without approval.
runbook-params = <b>Parameters</b>
runbook-steps = <b>Steps</b>
runbooks-for = 📒 Runbooks for <code>{ $id }</code>:
runbooks-none-match = No runbook matches the labels of <code>{ $id }</code>. See /runbooks.
run-usage = Usage: /run id key=value … (quote values with spaces: reason="disk full")
run-bad-token = Expected key=value, got <code>{ $token }</code>.
run-invalid = ⛔ Cannot run <b>{ $id }</b>; nothing was run:
run-title = 🛠 <b>{ $id }</b> — { $title }
run-requested = Requested by { $who }
run-params = Params:
run-approvals = Approvals: { $have }/{ $need } ({ $who })
run-pending = ⏳ Waiting for approval until { $until }
run-rejected = ❌ Rejected by { $who }. Nothing was run.
run-expired = ⌛ The approval request expired. Nothing was run.
run-locked = 🔒 Not started: lock <code>{ $lock }</code> is held by a run requested by { $who }.
run-interrupted = ⚠️ The run of <b>{ $id }</b> was interrupted by a restart. It was not re-run; check the system and run it again if needed.
run-result-ok = ✅ Finished in { $duration }
run-result-failed = ❌ Failed after { $duration }
run-result-timeout = ⏱ Timed out after { $duration }
run-result-cancelled = 🚫 Cancelled after { $duration }
run-output = <b>Output of { $id }</b>
vote-expired = This approval request has expired or does not exist.
vote-done = This request has already been decided.
vote-wrong_chat = This request belongs to another chat.
vote-self = You cannot approve your own request.
vote-dup = You have already voted.
vote-rejected = Rejected. Nothing will run.
vote-counted = Approval counted ({ $have }/{ $need }).
vote-approved = Approved. Running now.
vote-forbidden = You may not approve this.

## /update /audit
update-usage = Usage: /update INC-n text
update-post = 📣 <b>{ $phase } · <code>{ $id }</code> · { $severity } · { $state }</b>
    { $title }
    { $text }
    — { $who }, { $at }
update-choose = Which phase is this update for <code>{ $id }</code>?
update-expired = That update draft has expired; send /update again.
update-tpl-investigating = 🔍 Investigating
update-tpl-identified = 🎯 Identified
update-tpl-monitoring = 👁 Monitoring
update-tpl-resolved = ✅ Resolved

## post-emergency checklist (seed 001)
ck-title = 📋 <b>Post-emergency checklist · <code>{ $id }</code></b>
    { $title }
ck-progress = { $done }/{ $total } done
ck-phase-immediate = Immediate post-recovery (0–30 min)
ck-phase-short = Short-term verification (30 min – 2 h)
ck-phase-followup = Follow-up actions (2–24 h)
ck-services = All services running and healthy
ck-health = Health endpoints return HTTP 200
ck-logs = No critical errors in logs (last 5 min)
ck-resources = Resource usage within normal ranges (under 80%)
ck-tiers = All tiers respond within SLA
ck-stable = Stability confirmed (30 min continuous operation)
ck-baselines = Performance baselines restored
ck-cascade = No cascading failures detected
ck-alerts = Monitoring alerts cleared
ck-stakeholders = Stakeholders notified of resolution
ck-rca = Root cause analysis started
ck-postmortem = Postmortem scheduled (P0/P1)
ck-docs = Documentation updated
ck-preventive = Preventive measures identified
ck-process = Response process reviewed
postmortem-caption = 📝 Postmortem draft for <code>{ $id }</code>
stats-usage = Usage: /stats [7d|30d]
stats-title = 📊 <b>Response statistics, last { $span }</b>
stats-label = last { $span }
audit-none = The audit log is empty.
audit-title = <b>Audit log (last { $n })</b>
digest-status = 🚨 { $open } open · 👀 { $acked } acknowledged · ✅ { $resolved } resolved

## silence confirmation and limits (issue 13)
matcher-bad-regex = Bad regular expression in <code>{ $token }</code>: { $problem }. Matchers use RE2 syntax (as in Alertmanager), at most 256 characters.
silence-too-long = ⛔ Too long: as { $role } you may silence for at most { $max }.
silence-matches-all = ⛔ <code>{ $matchers }</code> would match every alert (a missing label counts as empty). Add a matcher that needs a value, such as service=api. Silencing everything is a maintenance window: /maintenance (admin only).
silence-preview = 🔕 <b>Silence preview</b>: <code>{ $matchers }</code> until { $until } ({ $duration }).
silence-preview-reason = Reason: { $reason }
silence-preview-none = No open incident matches it now.
silence-preview-count = Open incidents it matches now: { $count }
silence-preview-atleast = Open incidents it matches now: at least { $count } (of the { $scanned } most recent)
silence-preview-more = … and { $count } more
silence-preview-ask = Nothing is silenced yet. Only { $who } can press Confirm, within { $minutes } minutes.
btn-silence-confirm = ✅ Confirm
silence-not-yours = Only { $who } can confirm or cancel this silence.
silence-pending-gone = This silence preview has expired or was already handled.
silence-cancelled = ✖ Silence cancelled by { $who }: nothing was silenced.
silence-confirmed = Silence confirmed.
run-refused-tampered = ⛔ Not started: the stored request for <b>{ $id }</b> no longer matches what was approved. Nothing was run; request it again.
run-refused-role = ⛔ Not started: { $who } no longer has the <b>{ $role }</b> role this runbook needs. Nothing was run.

## access (who may see what), /whoami, command rate limit
help-whoami = your Telegram id, this chat's id and your role
whoami = 🪪 Your Telegram id: <code>{ $id }</code>
    This chat's id: <code>{ $chat }</code>
    Your role: <b>{ $role }</b>
whoami-name = Configured as <b>{ $name }</b> in <code>people</code>.
whoami-unlisted = You are not listed in <code>people</code>.
access-private-stranger = 🔒 Your Telegram id is <code>{ $id }</code>. This bot serves its on-call team only: ask an admin to add you to <code>people</code> in opsbot.yaml.
access-private-button = 🔒 Ask an admin to add you (your Telegram id: { $id }).
access-unknown-chat = 👋 This chat is not configured for opsbot, so I am leaving it. Its chat id is <code>{ $id }</code>: to use opsbot here, ask an admin to add it under <code>chats:</code> in opsbot.yaml (e.g. <code>team: {"{"} id: { $id } {"}"}</code>) and add me again.
access-unknown-chat-button = This chat is not configured for opsbot (chat id { $id }).
rate-limited = ⏳ { $name }, that is more than { $max } commands in a minute. Please wait a minute; I will answer again then.
stats-too-long = /stats covers at most { $days } days (for example /stats 90d).
status-silenced = 🔕 Silenced open incidents: { $count }
inc-roles = 🎖 { $roles }
inc-role-commander = Commander
inc-role-comms = Comms
inc-role-scribe = Scribe
help-role = incident roles: /role [INC-n] commander|comms|scribe person
role-usage = Usage: /role [INC-n] commander|comms|scribe person (in an incident's war-room topic the id is optional).
role-already = <code>{ $id }</code>: { $person } already is { $role }.
did-role = 🎖 <code>{ $id }</code>: { $role } is now { $person }.
warroom-pointer = 🧵 <code>{ $id }</code> · { $severity } · { $title } — war room: <a href="{ $link }">open the topic</a>
warroom-pointer-reopened = 🧵 <code>{ $id }</code> · { $severity } · { $title } — fired again: <a href="{ $link }">war room reopened</a>
warroom-unavailable = ⚠️ War-room topics are on for this chat but could not be created ({ $reason }). Incidents are posted here as before. Make this a forum-enabled supergroup and give the bot the "Manage topics" right.

## Alertmanager silences, both ways (issue 16)
am-unreachable = ⚠️ Alertmanager unreachable, silence kept in opsbot and retried.
btn-unsilence = 🔔 Unsilence
did-unsilence = 🔔 { $who } unsilenced <code>{ $id }</code>.
silence-preview-am = Also silenced in Alertmanager: { $integrations }
silences-am-line = • Alertmanager { $integration }: { $matchers } until { $until } (by { $by })
silences-more = … and { $count } more
silences-am-unreachable = ⚠️ Alertmanager { $integration } is unreachable: its silences are not listed.
am-expire-queued = Alertmanager unreachable: the expiry is kept and retried.

## shift cover and swaps (/cover, /swap), calendar feeds (/calendar)
help-cover = ask for cover of your shift: /cover schedule 4h [person]
help-swap = offer to swap your shift: /swap schedule YYYY-MM-DD person
help-calendar = your on-call calendar feed URLs: /calendar [revoke]
oncall-cover = (covering for { $for })
oncall-swap = (swapped with { $for })
oncall-cover-line =   ↳ { $who } covers { $for } from { $from } until { $until }
oncall-swap-line =   ↳ { $who } takes { $for }'s shift from { $from } until { $until } (swap)
cover-usage = Usage: /cover schedule duration [person], e.g. /cover primary 4h bob. Without a person, the schedule's other members are asked. Schedules: { $schedules }. People: { $people }
swap-usage = Usage: /swap schedule YYYY-MM-DD person: your shift starting that day for that person's next shift. Schedules: { $schedules }. People: { $people }
trade-problem-unknown-schedule = ⛔ No schedule <b>{ $schedule }</b>. Schedules: { $schedules }
trade-problem-unknown-person = ⛔ No person <b>{ $person }</b>. People: { $people }
trade-problem-not-on-shift = ⛔ You have no shift in <b>{ $schedule }</b> in the next { $days } days (for that day). Only the person on a shift, or an admin, may ask.
trade-problem-self = ⛔ That shift is already { $person }'s.
trade-problem-no-candidates = ⛔ Nobody else is in <b>{ $schedule }</b> to ask: name a person.
trade-problem-bad-date = ⛔ <code>{ $date }</code> is not a date: use YYYY-MM-DD (in { $zone }).
trade-problem-no-shift-that-day = ⛔ No shift in <b>{ $schedule }</b> starts on { $date } ({ $zone }) within the next { $days } days.
trade-problem-started = ⛔ That shift has already started: ask for cover with /cover instead.
trade-problem-no-other-shift = ⛔ { $person } has no shift in <b>{ $schedule }</b> after that one within { $days } days.
cover-request = 🙋 <b>Cover asked</b> in <b>{ $schedule }</b> by { $requester }: { $owner }'s shift from { $from } until { $to }.
swap-request = 🔁 <b>Swap offered</b> in <b>{ $schedule }</b> by { $requester }: { $owner }'s shift { $from } – { $to } for { $other }'s shift { $from2 } – { $to2 }.
cover-ask-open = Asked: { $people }. The first to accept covers.
trade-ask = Asked: { $who }.
trade-expires = Open until { $expires }.
cover-accepted = ✅ { $by } covers { $owner } from { $from } until { $to }.
swap-accepted = ✅ Swapped: { $other } takes { $from } – { $to }, { $owner } takes { $from2 } – { $to2 }.
trade-declined = ✖ Declined by { $by }. Nothing changed.
trade-expired = ⌛ Expired: nobody accepted. Nothing changed.
btn-trade-accept = ✅ Accept
btn-trade-decline = ✖ Decline
trade-gone = This request has expired or no longer exists.
trade-done = This request was already decided.
trade-self = You asked: someone else has to accept.
trade-not-yours = Only { $who } can answer this request.
trade-members = the other members of { $schedule }
trade-declined-one = Noted: you declined. The others may still accept.
trade-accepted-answer = Accepted: the schedule is updated.
trade-declined-answer = Declined.
calendar-private-only = 🔒 /calendar answers with a personal link: ask me in a private chat.
calendar-revoked = ✅ Your calendar token is revoked: its feed links stop working now.
calendar-none = You have no calendar token.
calendar-usage = Usage: /calendar (new feed links, replacing the old ones) or /calendar revoke
calendar-no-url = ⛔ Calendar feeds need the bot's public address: an admin sets <code>public_url</code> in opsbot.yaml (or WEBHOOK_URL).
calendar-minted = 📅 <b>Your calendar feeds</b> (subscribe by URL in your calendar app; 60 days ahead):
calendar-feed-person = • your shifts: { $url }
calendar-feed-schedule = • { $schedule }: { $url }
calendar-keep-secret = These links carry a personal token: keep them private. /calendar again replaces it; /calendar revoke ends it.
cal-name-schedule = On call: { $schedule }
cal-name-person = On call: { $person }
cal-summary-schedule = On call: { $person } ({ $schedule })
cal-summary-person = On call: { $schedule }
cal-desc-cover = { $person } covers { $for }
cal-desc-swap = { $person } takes { $for }'s shift (swap)
cal-desc-override = Override: { $person }
inc-alert-name = 📛 Alert: <code>{ $name }</code>
help-unack = take back an acknowledgement: /unack INC-n
