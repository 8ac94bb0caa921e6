# opsbot — العربية. المتغيرات التي تحمل نص المستخدم أو التنبيه تصل مُهرَّبة لـ HTML.

## roles and states
role-viewer = مُشاهد
role-responder = مُستجيب
role-approver = مُعتمِد
role-admin = مسؤول
state-triggered = مُطلَق
state-acknowledged = مُستلَم
state-resolved = محلول
kind-silence = كتم
kind-maintenance = صيانة
default = الافتراضي
required = (مطلوب)

## generic
error-generic = ⚠️ حدث خطأ أثناء معالجة الطلب. تم تسجيله؛ يرجى المحاولة مرة أخرى.
button-unknown = هذا الزر لم يعد صالحًا.
refused-role = ⛔ يتطلب هذا دور <b>{ $role }</b> (دورك: { $yours }).

## /start /help /status /lang
start = 👋 مرحبًا { $name }. أنا opsbot: التنبيهات والاستلام والتصعيد وأدلة التشغيل لهذا الفريق. دورك: <b>{ $role }</b>. أرسل /help لمعرفة ما يمكنك فعله.
start-private = ستصلك هنا النداءات عندما تكون مناوبًا{ $subscribed ->
    [yes] ، وكل حادثة جديدة بخطورة <b>{ $level }</b> أو أشد، بالأزرار نفسها التي في المجموعة. غيّر ذلك بـ /notify P1 (‏P0 و P1 فقط) أو /notify off.
   *[no] . لا تُرسل الحوادث الجديدة هنا؛ ‎/notify on يفعّلها.
}
start-private-stranger = لست في قائمة أفراد هذا الفريق، لذا لا أرسل إليك الحوادث. اطلب من المسؤول إضافة معرّفك في تيليجرام <code>{ $id }</code>.
notify-usage = الاستخدام: ‎/notify on | off | P0 | P1 | P2 | P3 (الحوادث الجديدة بهذه الخطورة أو أشد). الآن: { $state }
notify-state = { $level ->
    [off] متوقفة — النداءات فقط عندما تكون مناوبًا
    [P3] كل حادثة جديدة
   *[other] الحوادث الجديدة بخطورة <b>{ $level }</b> أو أشد
}
notify-set = 🔔 إشعارات المحادثة الخاصة: { $state }.
notify-private-only = أرسل /notify إليّ في محادثة خاصة؛ فهو يضبط ما أرسله إليك هناك.
notify-stranger = لست في قائمة أفراد هذا الفريق، لذا لا يمكنني إرسال الحوادث إليك.
help-title = <b>الأوامر المتاحة لدورك ({ $role })</b>
help-start = تعريف بالبوت
help-help = هذه القائمة
help-status = حالة البوت والحوادث المفتوحة
help-lang = لغة هذه المحادثة: /lang en|ar
help-incidents = الحوادث المفتوحة حسب الخطورة
help-incident = التفاصيل والخط الزمني: /incident INC-n
help-oncall = من المناوب الآن ومن التالي
help-runbooks = أدلة التشغيل التي يمكنك تشغيلها
help-runbook = ماذا يفعل دليل تشغيل: /runbook id
help-silences = عمليات الكتم ونوافذ الصيانة النشطة
help-stats = إحصاءات الاستجابة: /stats [7d|30d]
help-ack = استلام: /ack INC-n
help-resolve = حل: /resolve INC-n [ملاحظة]
help-escalate = نداء المستوى التالي الآن: /escalate INC-n
help-note = إضافة ملاحظة: /note INC-n نص
help-update = نشر تحديث حالة: /update INC-n نص
help-sev = تغيير الخطورة: /sev INC-n P0..P3
help-assign = إسناد: /assign INC-n [شخص]
help-silence = كتم حسب الوسوم: /silence 2h service=api
help-declare = فتح حادثة يدويًا
help-cancel = الخروج من محادثة موجَّهة
help-run = تشغيل دليل تشغيل: /run id key=value …
help-postmortem = مسودة تحليل ما بعد الحادثة: /postmortem INC-n
help-maintenance = نافذة صيانة: /maintenance 2h [وسوم]
help-override = تجاوز المناوبة: /override schedule person 4h
help-audit = سجل التدقيق: /audit [n]
help-notify = الحوادث في محادثتك الخاصة: ‎/notify on|off|P0..P3
status-title = <b>حالة opsbot</b>
status-ok = ✅ يعمل
status-down = ❌ متوقف
status-redis = Redis: { $state }
status-telegram = Bot API: { $state }
status-version = الإصدار { $version } · يعمل منذ { $uptime }
status-open = الحوادث المفتوحة: <b>{ $count }</b>
status-oldest = أقدم حادثة غير مستلَمة: <code>{ $id }</code> { $title } ({ $age })
status-maintenance = 🛠 صيانة حتى { $until }: { $matchers }
lang-usage = الاستخدام: /lang en أو /lang ar
lang-set = ✅ هذه المحادثة تتحدث العربية الآن.

## incident messages
inc-alerts = 🔔 عدد التنبيهات { $count }، النشطة { $firing } · بدأت { $started }
inc-acked-by = 👀 استلمها <b>{ $who }</b> في { $at }
inc-assignee = 👤 المسؤول: { $who }
inc-resolved-by = ✅ حلّها { $who } في { $at } · استمرت { $duration }
inc-paged = 📣 المستوى { $level } · تم نداء: { $who }
inc-silenced-until = 🔕 مكتومة حتى { $until }
inc-breached = ⏰ تم تجاوز هدف زمن الاستجابة
btn-ack = ✅ استلام
btn-unack = ↩️ إلغاء الاستلام
btn-resolve = 🟢 حل
btn-escalate = ⬆️ تصعيد
btn-silence = 🔕 كتم
btn-details = ℹ️ التفاصيل
btn-runbooks = 📒 أدلة التشغيل
btn-silence-1h = ساعة واحدة
btn-silence-4h = 4 ساعات
btn-silence-24h = 24 ساعة
btn-silence-resolved = حتى الحل
btn-back = ◀ رجوع
btn-approve = ✅ موافقة
btn-reject = ❌ رفض
btn-confirm = ✅ فتح الحادثة
btn-cancel = ✖ إلغاء
btn-expire = 🗑 إنهاء
page-header = 📟 <b>تم نداؤك</b> (مستوى التصعيد { $level })
page-header-chat = 📟 <b>مستوى التصعيد { $level }</b>: لم يُستلم بعد
page-dm-failed = 📟 تم نداء { $mention } للحادثة <code>{ $id }</code> لكنه لم يبدأ محادثة خاصة معي بعد، فلم أتمكن من مراسلته. يرجى فتح محادثة مع البوت والضغط على Start.
digest-title = 🌩 <b>عاصفة تنبيهات: { $count } حادثة جديدة</b>
digest-more = … و{ $count } أخرى
digest-hint = استخدم /incidents لعرضها كلها؛ ويمكن استلام كل حادثة بالأمر /ack INC-n.
breach-announce = ⏰ الحادثة <code>{ $id }</code> ({ $severity }) لم تُستلَم خلال هدف الاستجابة { $target }: { $title }
remind-update = 📝 { $who }، الحادثة <code>{ $id }</code> بلا تحديث منذ { $since } (الإيقاع: كل { $every }). يرجى نشر /update { $id } نص.

## incident actions
did-ack = 👀 استلم { $who } الحادثة <code>{ $id }</code>.
did-unack = ↩️ أعاد { $who } الحادثة <code>{ $id }</code> إلى حالة الإطلاق.
did-resolve = ✅ حلّ { $who } الحادثة <code>{ $id }</code>.
did-escalate = ⬆️ صعّد { $who } الحادثة <code>{ $id }</code> إلى المستوى التالي.
did-silence = 🔕 كتم { $who } الحادثة <code>{ $id }</code>.
did-note = 📝 أُضيفت ملاحظة إلى <code>{ $id }</code>.
did-sev = 🎚 أصبحت خطورة <code>{ $id }</code> { $sev }.
did-assign = 👤 أُسندت <code>{ $id }</code> إلى { $assignee }.
did-update = 📣 نُشر تحديث <code>{ $id }</code>.
inc-unknown = ❓ لا توجد حادثة { $id }.
inc-already = لا شيء لفعله: <code>{ $id }</code> في هذه الحالة مسبقًا.
inc-already-acked = استلمها { $who } مسبقًا في { $at } (<code>{ $id }</code>).
inc-already-resolved = الحادثة <code>{ $id }</code> محلولة مسبقًا.
inc-invalid-state = الحادثة <code>{ $id }</code> في حالة { $state }؛ لا ينطبق هذا الإجراء.
inc-no-policy = لا توجد سياسة تصعيد لخطورة <code>{ $id }</code>.
need-incident-id = أي حادثة؟ استخدم /{ $cmd } INC-n أو رُدّ على رسالة الحادثة.
note-usage = الاستخدام: /note INC-n نص (أو رُدّ على رسالة الحادثة)
sev-usage = الاستخدام: /sev INC-n P0|P1|P2|P3
assign-usage = الاستخدام: /assign INC-n [شخص]
assign-unknown = شخص غير معروف { $who }. المعروفون: { $people }
details-opened = فُتحت { $at }
details-tta = زمن الاستلام: { $d }
details-ttr = زمن الحل: { $d }
details-timeline = <b>الخط الزمني</b>
incidents-none = ✅ لا توجد حوادث مفتوحة.
incidents-title = <b>الحوادث المفتوحة: { $count }</b> (صفحة { $page }/{ $pages })

## silences, maintenance, on-call
silence-usage = الاستخدام: /silence 2h key=value [key=~regex] [سبب] (مطابِق واحد على الأقل)
maintenance-usage = الاستخدام: /maintenance 2h [key=value …] [سبب]
matcher-bad = ليس مطابِق وسوم: <code>{ $token }</code> (استخدم key=value أو key!=value أو key=~regex)
silence-created = 🔕 كتم <code>{ $id }</code> لـ { $matchers } حتى { $until }. تستمر الحوادث في التسجيل.
maintenance-created = 🛠 صيانة <code>{ $id }</code> لـ { $matchers } حتى { $until }: لا إشعارات ولا تصعيد.
silences-none = لا توجد عمليات كتم أو نوافذ صيانة نشطة.
silences-title = <b>عمليات الكتم النشطة</b>
silences-line = • { $kind } { $matchers } حتى { $until } (بواسطة { $by })
silence-expired = انتهى.
silence-gone = غير موجود مسبقًا.
oncall-none = لا توجد جداول مناوبة مُعرَّفة.
oncall-title = <b>المناوبة</b>
oncall-line = • <b>{ $schedule }</b>: { $who }{ $override } حتى { $until } · التالي { $next } من { $from }
oncall-override = (تجاوز)
override-usage = الاستخدام: /override schedule person 4h. الجداول: { $schedules }. الأشخاص: { $people }
override-set = ✅ { $who } مناوب في { $schedule } حتى { $until }.

## /declare
declare-ask-title = 🆕 ما الذي تعطّل؟ رُدّ بعنوان قصير.
declare-ask-severity = ما مدى خطورته؟
declare-ask-service = ما الخدمة المتأثرة؟ رُدّ باسمها، أو - إن لم توجد.
declare-confirm = هل تفتح هذه الحادثة؟
    <b>{ $title }</b>
    الخطورة: { $severity } · الخدمة: { $service }
declare-cancelled = أُلغي الإعلان.
declare-nothing = لا شيء لإلغائه.
declare-not-yours = هذه المحادثة ليست لك أو انتهت.
declare-done = 🆕 فُتحت <code>{ $id }</code>.
sev-meaning-P0 = P0 حرجة: انقطاع، فقدان بيانات، اختراق
sev-meaning-P1 = P1 عالية: تعطل وظيفة رئيسية
sev-meaning-P2 = P2 متوسطة: تعطل وظيفة ثانوية
sev-meaning-P3 = P3 منخفضة: شكلية، يوم العمل التالي

## runbooks
runbooks-none = لا توجد أدلة تشغيل متاحة.
runbooks-title = <b>أدلة التشغيل المتاحة لك ({ $count })</b>
runbooks-title-viewer = <b>أدلة التشغيل ({ $count })</b> — يمكن للمشاهدين القراءة دون التشغيل
runbook-unknown = ❓ لا يوجد دليل تشغيل { $id }. المعروفة: { $ids }
runbook-kind = النوع: { $kind } · يمكن طلبه من: { $role }
runbook-approval = 🔐 يحتاج { $n } موافقة من { $role } (غير مقدّم الطلب)
runbook-no-approval = يعمل دون موافقة.
runbook-params = <b>المعاملات</b>
runbook-steps = <b>الخطوات</b>
runbooks-for = 📒 أدلة التشغيل لـ <code>{ $id }</code>:
runbooks-none-match = لا يطابق أي دليل تشغيل وسوم <code>{ $id }</code>. راجع /runbooks.
run-usage = الاستخدام: /run id key=value … (ضع القيم التي تحوي مسافات بين علامتي اقتباس: reason="disk full")
run-bad-token = المتوقع key=value، وصل <code>{ $token }</code>.
run-invalid = ⛔ لا يمكن تشغيل <b>{ $id }</b>؛ لم يُشغَّل شيء:
run-title = 🛠 <b>{ $id }</b> — { $title }
run-requested = طلبه { $who }
run-params = المعاملات:
run-approvals = الموافقات: { $have }/{ $need } ({ $who })
run-pending = ⏳ بانتظار الموافقة حتى { $until }
run-rejected = ❌ رفضه { $who }. لم يُشغَّل شيء.
run-expired = ⌛ انتهت صلاحية طلب الموافقة. لم يُشغَّل شيء.
run-locked = 🔒 لم يبدأ: القفل <code>{ $lock }</code> محجوز لتشغيل طلبه { $who }.
run-interrupted = ⚠️ انقطع تشغيل <b>{ $id }</b> بسبب إعادة تشغيل. لم يُعَد تشغيله؛ افحص النظام وشغّله مجددًا عند الحاجة.
run-result-ok = ✅ اكتمل خلال { $duration }
run-result-failed = ❌ فشل بعد { $duration }
run-result-timeout = ⏱ انتهت المهلة بعد { $duration }
run-result-cancelled = 🚫 أُلغي بعد { $duration }
run-output = <b>مخرجات { $id }</b>
vote-expired = طلب الموافقة منتهي الصلاحية أو غير موجود.
vote-done = حُسم هذا الطلب مسبقًا.
vote-wrong_chat = هذا الطلب يخص محادثة أخرى.
vote-self = لا يمكنك الموافقة على طلبك.
vote-dup = صوّتَّ مسبقًا.
vote-rejected = رُفض. لن يُشغَّل شيء.
vote-counted = احتُسبت الموافقة ({ $have }/{ $need }).
vote-approved = تمت الموافقة. يجري التشغيل الآن.
vote-forbidden = لا يمكنك الموافقة على هذا.

## /update /audit
update-usage = الاستخدام: /update INC-n نص
update-post = 📣 <b>{ $phase } · <code>{ $id }</code> · { $severity } · { $state }</b>
    { $title }
    { $text }
    — { $who }، { $at }
update-choose = لأي مرحلة هذا التحديث للحادثة <code>{ $id }</code>؟
update-expired = انتهت صلاحية مسودة التحديث؛ أرسل /update مرة أخرى.
update-tpl-investigating = 🔍 قيد التحقيق
update-tpl-identified = 🎯 تم تحديد السبب
update-tpl-monitoring = 👁 قيد المراقبة
update-tpl-resolved = ✅ تم الحل

## post-emergency checklist (seed 001)
ck-title = 📋 <b>قائمة ما بعد الطوارئ · <code>{ $id }</code></b>
    { $title }
ck-progress = أُنجز { $done }/{ $total }
ck-phase-immediate = فور التعافي (0–30 دقيقة)
ck-phase-short = تحقق قصير المدى (30 دقيقة – ساعتان)
ck-phase-followup = إجراءات المتابعة (2–24 ساعة)
ck-services = جميع الخدمات تعمل وسليمة
ck-health = نقاط فحص الصحة تعيد HTTP 200
ck-logs = لا أخطاء حرجة في السجلات (آخر 5 دقائق)
ck-resources = استهلاك الموارد ضمن المعدل (أقل من 80%)
ck-tiers = جميع الطبقات تستجيب ضمن اتفاقية الخدمة
ck-stable = تأكيد الاستقرار (30 دقيقة تشغيل متواصل)
ck-baselines = استعادة خطوط الأداء الأساسية
ck-cascade = لا إخفاقات متتالية
ck-alerts = زوال تنبيهات المراقبة
ck-stakeholders = إبلاغ المعنيين بالحل
ck-rca = بدء تحليل السبب الجذري
ck-postmortem = جدولة تحليل ما بعد الحادثة (P0/P1)
ck-docs = تحديث التوثيق
ck-preventive = تحديد إجراءات وقائية
ck-process = مراجعة عملية الاستجابة
postmortem-caption = 📝 مسودة تحليل ما بعد الحادثة <code>{ $id }</code>
stats-usage = الاستخدام: /stats [7d|30d]
stats-title = 📊 <b>إحصاءات الاستجابة، آخر { $span }</b>
stats-label = آخر { $span }
audit-none = سجل التدقيق فارغ.
audit-title = <b>سجل التدقيق (آخر { $n })</b>
digest-status = 🚨 { $open } مفتوحة · 👀 { $acked } مُستلَمة · ✅ { $resolved } محلولة

## silence confirmation and limits (issue 13)
matcher-bad-regex = تعبير نمطي غير صالح في <code>{ $token }</code>: { $problem }. تستخدم المطابِقات صياغة RE2 (كما في Alertmanager)، وبحد أقصى 256 حرفًا.
silence-too-long = ⛔ المدة طويلة جدًا: بصفتك { $role } يمكنك الكتم لمدة { $max } على الأكثر.
silence-matches-all = ⛔ <code>{ $matchers }</code> يطابق كل التنبيهات (الوسم المفقود يُعدّ فارغًا). أضف مطابِقًا يتطلب قيمة، مثل service=api. كتم كل شيء هو نافذة صيانة: /maintenance (للمسؤول فقط).
silence-preview = 🔕 <b>معاينة الكتم</b>: <code>{ $matchers }</code> حتى { $until } ({ $duration }).
silence-preview-reason = السبب: { $reason }
silence-preview-none = لا توجد حادثة مفتوحة تطابقه الآن.
silence-preview-count = الحوادث المفتوحة التي يطابقها الآن: { $count }
silence-preview-atleast = الحوادث المفتوحة التي يطابقها الآن: { $count } على الأقل (من أحدث { $scanned })
silence-preview-more = … و{ $count } أخرى
silence-preview-ask = لم يُكتم شيء بعد. يستطيع { $who } وحده الضغط على تأكيد خلال { $minutes } دقائق.
btn-silence-confirm = ✅ تأكيد
silence-not-yours = يستطيع { $who } وحده تأكيد هذا الكتم أو إلغاءه.
silence-pending-gone = انتهت صلاحية معاينة الكتم هذه أو عولجت مسبقًا.
silence-cancelled = ✖ ألغى { $who } الكتم: لم يُكتم شيء.
silence-confirmed = تم تأكيد الكتم.
run-refused-tampered = ⛔ لم يبدأ: الطلب المخزَّن لـ <b>{ $id }</b> لم يعد يطابق ما تمت الموافقة عليه. لم يُشغَّل شيء؛ اطلبه مجددًا.
run-refused-role = ⛔ لم يبدأ: لم يعد لدى { $who } الدور <b>{ $role }</b> الذي يحتاجه هذا الدليل. لم يُشغَّل شيء.

## access (who may see what), /whoami, command rate limit
help-whoami = معرّفك في تيليجرام ومعرّف هذه المحادثة ودورك
whoami = 🪪 معرّفك في تيليجرام: <code>{ $id }</code>
    معرّف هذه المحادثة: <code>{ $chat }</code>
    دورك: <b>{ $role }</b>
whoami-name = مُعرَّف باسم <b>{ $name }</b> في <code>people</code>.
whoami-unlisted = لست مدرجًا في <code>people</code>.
access-private-stranger = 🔒 معرّفك في تيليجرام هو <code>{ $id }</code>. هذا البوت لفريق المناوبة فقط: اطلب من المسؤول إضافتك إلى <code>people</code> في opsbot.yaml.
access-private-button = 🔒 اطلب من المسؤول إضافتك (معرّفك في تيليجرام: { $id }).
access-unknown-chat = 👋 هذه المحادثة غير مُعدّة لـ opsbot، لذا سأغادرها. معرّفها <code>{ $id }</code>: لاستخدام opsbot هنا، اطلب من المسؤول إضافتها تحت <code>chats:</code> في opsbot.yaml (مثلًا <code>team: {"{"} id: { $id } {"}"}</code>) ثم أضفني مرة أخرى.
access-unknown-chat-button = هذه المحادثة غير مُعدّة لـ opsbot (معرّف المحادثة { $id }).
rate-limited = ⏳ { $name }، هذه أكثر من { $max } أوامر في دقيقة. انتظر دقيقة من فضلك؛ سأجيب بعدها.
stats-too-long = يغطي /stats مدة أقصاها { $days } يومًا (مثلًا /stats 90d).
status-silenced = 🔕 حوادث مفتوحة مكتومة: { $count }
inc-roles = 🎖 { $roles }
inc-role-commander = القائد
inc-role-comms = الاتصالات
inc-role-scribe = المدوّن
help-role = أدوار الحادثة: /role [INC-n] commander|comms|scribe شخص
role-usage = الاستخدام: /role [INC-n] commander|comms|scribe شخص (داخل موضوع غرفة العمليات للحادثة يمكن حذف المعرّف).
role-already = <code>{ $id }</code>: { $person } هو { $role } بالفعل.
did-role = 🎖 <code>{ $id }</code>: { $role } الآن { $person }.
warroom-pointer = 🧵 <code>{ $id }</code> · { $severity } · { $title } — غرفة العمليات: <a href="{ $link }">افتح الموضوع</a>
warroom-pointer-reopened = 🧵 <code>{ $id }</code> · { $severity } · { $title } — أُطلقت مجددًا: <a href="{ $link }">أُعيد فتح غرفة العمليات</a>
warroom-unavailable = ⚠️ مواضيع غرف العمليات مفعّلة لهذه المحادثة لكن تعذّر إنشاؤها ({ $reason }). تُنشر الحوادث هنا كما في السابق. اجعل المجموعة مجموعة خارقة بمواضيع وامنح البوت صلاحية "إدارة المواضيع".

## Alertmanager silences, both ways (issue 16)
am-unreachable = ⚠️ تعذّر الوصول إلى Alertmanager، الكتم محفوظ في opsbot وستُعاد المحاولة.
btn-unsilence = 🔔 إلغاء الكتم
did-unsilence = 🔔 ألغى { $who } كتم <code>{ $id }</code>.
silence-preview-am = يُكتم أيضًا في Alertmanager: { $integrations }
silences-am-line = • Alertmanager { $integration }: { $matchers } حتى { $until } (بواسطة { $by })
silences-more = … و{ $count } أخرى
silences-am-unreachable = ⚠️ تعذّر الوصول إلى Alertmanager { $integration }: لم تُعرض حالات الكتم فيه.
am-expire-queued = تعذّر الوصول إلى Alertmanager: الإنهاء محفوظ وستُعاد المحاولة.

## shift cover and swaps (/cover, /swap), calendar feeds (/calendar)
help-cover = طلب تغطية مناوبتك: /cover schedule 4h [person]
help-swap = عرض تبديل مناوبتك: /swap schedule YYYY-MM-DD person
help-calendar = روابط تقويم مناوباتك: /calendar [revoke]
oncall-cover = (يغطي عن { $for })
oncall-swap = (تبديل مع { $for })
oncall-cover-line =   ↳ { $who } يغطي عن { $for } من { $from } حتى { $until }
oncall-swap-line =   ↳ { $who } يأخذ مناوبة { $for } من { $from } حتى { $until } (تبديل)
cover-usage = الاستخدام: /cover schedule duration [person]، مثلاً /cover primary 4h bob. دون ذكر شخص يُسأل باقي أعضاء الجدول. الجداول: { $schedules }. الأشخاص: { $people }
swap-usage = الاستخدام: /swap schedule YYYY-MM-DD person: مناوبتك التي تبدأ ذلك اليوم مقابل مناوبة ذلك الشخص التالية. الجداول: { $schedules }. الأشخاص: { $people }
trade-problem-unknown-schedule = ⛔ لا يوجد جدول <b>{ $schedule }</b>. الجداول: { $schedules }
trade-problem-unknown-person = ⛔ لا يوجد شخص <b>{ $person }</b>. الأشخاص: { $people }
trade-problem-not-on-shift = ⛔ ليست لديك مناوبة في <b>{ $schedule }</b> خلال { $days } يوماً (في ذلك اليوم). لا يطلب إلا صاحب المناوبة أو المسؤول.
trade-problem-self = ⛔ تلك المناوبة لـ { $person } أصلاً.
trade-problem-no-candidates = ⛔ لا يوجد عضو آخر في <b>{ $schedule }</b> لسؤاله: اذكر شخصاً.
trade-problem-bad-date = ⛔ <code>{ $date }</code> ليس تاريخاً: استخدم YYYY-MM-DD (بتوقيت { $zone }).
trade-problem-no-shift-that-day = ⛔ لا تبدأ أي مناوبة في <b>{ $schedule }</b> يوم { $date } ({ $zone }) خلال { $days } يوماً.
trade-problem-started = ⛔ بدأت تلك المناوبة: اطلب تغطية بـ /cover بدلاً من ذلك.
trade-problem-no-other-shift = ⛔ ليست لـ { $person } مناوبة في <b>{ $schedule }</b> بعد تلك خلال { $days } يوماً.
cover-request = 🙋 <b>طلب تغطية</b> في <b>{ $schedule }</b> من { $requester }: مناوبة { $owner } من { $from } حتى { $to }.
swap-request = 🔁 <b>عرض تبديل</b> في <b>{ $schedule }</b> من { $requester }: مناوبة { $owner } { $from } – { $to } مقابل مناوبة { $other } { $from2 } – { $to2 }.
cover-ask-open = المسؤولون: { $people }. أول من يقبل يغطي.
trade-ask = المسؤول: { $who }.
trade-expires = مفتوح حتى { $expires }.
cover-accepted = ✅ { $by } يغطي عن { $owner } من { $from } حتى { $to }.
swap-accepted = ✅ تم التبديل: { $other } يأخذ { $from } – { $to }، و{ $owner } يأخذ { $from2 } – { $to2 }.
trade-declined = ✖ رفضه { $by }. لم يتغير شيء.
trade-expired = ⌛ انتهت المهلة: لم يقبل أحد. لم يتغير شيء.
btn-trade-accept = ✅ قبول
btn-trade-decline = ✖ رفض
trade-gone = انتهت صلاحية هذا الطلب أو لم يعد موجوداً.
trade-done = تم البت في هذا الطلب من قبل.
trade-self = أنت صاحب الطلب: يجب أن يقبله شخص آخر.
trade-not-yours = لا يجيب على هذا الطلب إلا { $who }.
trade-members = باقي أعضاء { $schedule }
trade-declined-one = سُجّل رفضك. ما زال بإمكان الآخرين القبول.
trade-accepted-answer = قُبل: تم تحديث الجدول.
trade-declined-answer = رُفض.
calendar-private-only = 🔒 يجيب /calendar برابط شخصي: اسألني في محادثة خاصة.
calendar-revoked = ✅ أُلغي رمز التقويم الخاص بك: تتوقف روابطه الآن.
calendar-none = ليس لديك رمز تقويم.
calendar-usage = الاستخدام: /calendar (روابط جديدة تحل محل القديمة) أو /calendar revoke
calendar-no-url = ⛔ تحتاج روابط التقويم إلى عنوان البوت العام: يضبط المسؤول <code>public_url</code> في opsbot.yaml (أو WEBHOOK_URL).
calendar-minted = 📅 <b>روابط تقويمك</b> (اشترك عبر الرابط في تطبيق التقويم؛ 60 يوماً قادمة):
calendar-feed-person = • مناوباتك: { $url }
calendar-feed-schedule = • { $schedule }: { $url }
calendar-keep-secret = تحمل هذه الروابط رمزاً شخصياً: احفظها سراً. /calendar مجدداً يستبدله، و/calendar revoke ينهيه.
cal-name-schedule = المناوبة: { $schedule }
cal-name-person = المناوبة: { $person }
cal-summary-schedule = مناوبة: { $person } ({ $schedule })
cal-summary-person = مناوبة: { $schedule }
cal-desc-cover = { $person } يغطي عن { $for }
cal-desc-swap = { $person } يأخذ مناوبة { $for } (تبديل)
cal-desc-override = تجاوز: { $person }
inc-alert-name = 📛 التنبيه: <code>{ $name }</code>
help-unack = التراجع عن الإقرار: /unack INC-n
