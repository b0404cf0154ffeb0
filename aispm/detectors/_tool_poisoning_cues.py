"""The cue catalogue of ``injection.tool_poisoning``: word lists and patterns, by kind of cue.

One tuple of `_Cue` per kind: `_SECRECY`, `_SECRETS`, `_PARAMETER`, `_REDIRECT` (strong),
`_TAG`, `_PRECONDITION`, `_THREAT` (weak). The kinds, their weights and the detector that
scores them are in `aispm.detectors.tool_poisoning`; the phrase builders in
`._tool_poisoning_phrases`.
"""

from __future__ import annotations

from ._pattern import Pattern
from ._tool_poisoning_phrases import _GAP, _WORD, _alt, _cue, _phrase, _tokens, _upto

# Word lists of the patterns below (``|`` separates phrases; a space matches a short gap).
_THIS_FACT = "this|that|it|anything|any of this|the fact|these steps|this step|this instruction|these instructions"
_TELLING = (
    "telling|informing|notifying|alerting|warning|letting|bothering|mentioning it to|mentioning this to|"
    "mentioning it|mentioning this"
)
_NOTICING = "knowing|noticing|seeing|realizing|realising|finding out|being aware|being told|being informed"
_LEARN = (
    "know|see|notice|find out|be told|be informed|learn|be aware|suspect|be notified|realize|realise|"
    "be alerted|discover|hear about"
)
_THEM = "them|the user|users|the human"
_DETERMINERS = (
    "the|a|an|its|their|your|this|that|all|full|entire|complete|whole|current|previous|prior|of|list|user s|users"
)
_FILE_DETERMINERS = "its|their|the|this|that|those|these|all|full|entire|complete|whole|raw|file s|files|file|of"
_INTO = "as|in|into|inside|to|via|through|within|under|using|for"
_MUST = "must|should|shall|needs to|has to|is required to|will"
_FIELD_CONTENT = "content|contents|conversation|chat history|system prompt|previous messages|file contents|contents of"
_ENSURE = "make sure|be sure|ensure|remember|always|you must|you should|please|also|then|first"
_RECIPIENT = (
    "recipient|recipients|receiver|destination address|to address|to field|bcc field|beneficiary|payee|"
    "destination account|target account|iban|wallet address"
)
_ROUTE = "send|forward|route|redirect|deliver|bcc|cc|copy|mirror"
_TRAFFIC = "emails|e-mails|mails|messages|requests|payments|transfers|data|files|notifications|invoices|documents"
_BEHAVIOUR = "instructions|descriptions|description|behaviour|behavior|rules"
_USING = (
    "using|calling|invoking|running|executing|you use|you call|you run|you invoke|any use of|each use of|"
    "every use of|every call to|each call to|any call to|use of|you can use|proceeding with"
)
_OBLIGED = "you|must|need to|have to|should|always|first|please|make sure to|be sure to|are required to"
_FETCH = (
    "read|call|send|fetch|open|cat|include|pass|load|access|upload|provide|retrieve|obtain|run|execute|"
    "invoke|collect|gather|attach|look up|check"
)
_MODEL = "you|the assistant|the model|the ai|the agent|claude|the llm"
_MODAL = "will|would|does|do|can|could|may|might|won t|wont|doesn t|cannot|can t"
_WORK = "work|function|succeed|run|respond|fail|crash|break|be blocked|be rejected|be denied|stop working"


_HIDDEN_THING = "this|it|that|these|them|everything|the fact|this step|this instruction|these instructions"
_HIDDEN = "secret|hidden|private|confidential|quiet|away"


_NEGATION = (
    "do not|don t|dont|never|must not|should not|shouldn t|you must not|you should not|you must never|"
    "you should never|please do not|please don t|do not ever|don t ever|never ever"
)
_NEGATION_WORDS = "not|don|dont|never|shouldn"
_TELL = (
    "mention|tell|inform|notify|alert|reveal|disclose|say|explain|report|warn|bother|admit|acknowledge|"
    "bring up|point out|let"
)
_TELL_WORDS = _TELL.replace(" up", "").replace(" out", "")
_ADDRESSEE = "user|users|human|humans|requester|requestor|operator|end user"
_ADDRESSEE_WORDS = "user|users|human|humans|requester|requestor|operator"
_FOLLOWING = (
    "read|send|call|include|pass|forward|upload|copy|attach|add|execute|run|invoke|change|replace|append|"
    "exfiltrate|collect|gather|fetch|post|transmit|modify|bcc|cc|email|log|record|access|open"
)
_STEALTH = "silently|secretly|covertly|quietly|discreetly|surreptitiously|stealthily|invisibly"

_SECRECY = (
    # "do not mention this to the user", "never let the user know", "do not show or mention this to the user"
    _cue(
        _phrase(
            _NEGATION,
            rf"{_GAP}(?:ever{_GAP})?(?:{_WORD}{_GAP}{_alt('or|and|nor')}{_GAP})?{_alt(_TELL)}{_GAP}{_upto(4)}"
            rf"{_alt(_ADDRESSEE)}\b",
        ),
        _TELL_WORDS,
        _ADDRESSEE_WORDS,
    ),
    # "do not mention that you first need to read the file"
    _cue(
        _phrase(
            _NEGATION,
            rf"{_GAP}{_alt('mention|reveal|disclose|bring up|tell anyone|say anything about')}{_GAP}"
            rf"{_alt(_THIS_FACT)}\b",
        ),
        "mention|reveal|disclose|bring|tell|say",
        _NEGATION_WORDS,
    ),
    # "without telling the user", "without the user noticing"
    _cue(
        _phrase(
            "without",
            rf"{_GAP}(?:{_alt(_TELLING)}"
            rf"{_GAP}(?:{_alt('the|your|any|an')}{_GAP})?{_alt(_ADDRESSEE + '|them|anyone')}"
            rf"|{_alt('the user|the human|users')}{_GAP}{_alt(_NOTICING)})\b",
        ),
        "without",
        _ADDRESSEE_WORDS + "|them|anyone",
    ),
    # "the user must not know", "users should never see this"
    _cue(
        _phrase(
            "user|users|human|humans",
            rf"{_GAP}{_alt('must|should|need|needs|may|can|will|does|do|shall')}{_GAP}{_alt('not|never|n t|not ever')}"
            rf"{_GAP}{_alt(_LEARN)}\b",
        ),
        "user|users|human|humans",
        "know|see|notice|find|told|informed|learn|aware|suspect|notified|realize|realise|alerted|discover|hear",
    ),
    # "keep this secret from the user", "hide it from the user"
    _cue(
        _phrase(
            "keep|hide|conceal",
            rf"{_GAP}{_alt(_HIDDEN_THING)}{_GAP}(?:{_alt(_HIDDEN)}{_GAP})?from{_GAP}(?:{_alt('the|your|any')}{_GAP})?"
            rf"{_alt(_ADDRESSEE)}\b",
        ),
        "keep|hide|conceal",
        _ADDRESSEE_WORDS,
    ),
    # "silently send", "secretly include"
    _cue(_phrase(_STEALTH, rf"{_GAP}(?:and{_GAP})?(?:also{_GAP})?{_alt(_FOLLOWING)}\b"), _STEALTH, _FOLLOWING),
    # "this could even upset the user"
    _cue(
        _phrase("upset|scare|worry|alarm|frighten|panic", rf"{_GAP}{_alt('the|your')}{_GAP}{_alt(_ADDRESSEE)}\b"),
        "upset|scare|worry|alarm|frighten|panic",
        _ADDRESSEE_WORDS,
    ),
    # "it is a mere implementation detail", "does not really matter to them"
    _cue(_phrase("mere", rf"{_GAP}implementation{_GAP}details?\b"), "mere", "implementation"),
    _cue(
        _phrase(
            "does not|doesn t|doesnt",
            rf"{_GAP}(?:really{_GAP})?{_alt('matter|concern')}{_GAP}(?:to{_GAP})?{_alt(_THEM)}\b",
        ),
        "matter|concern",
        "them|user|users|human",
    ),
)

_ACCESS = (
    "read|cat|open|load|send|pass|include|upload|post|attach|forward|provide|print|dump|exfiltrate|leak|share|"
    "access|fetch|extract|paste|transmit|submit|append|insert|embed|grab|collect|retrieve|supply|encode|output|"
    "call|invoke"
)
# Files that hold credentials, as tokens of the folded text (a gap before a token eats ``~/.``).
_CREDENTIAL_FILES = (
    r"(?:(?<=[./~])ssh\b(?!-|/id_\w{1,12}\.pub\b|/config\b|/known_hosts\b)|id_(?:rsa|dsa|ecdsa|ed25519)\b(?!\.pub)"
    r"|(?<=\.)env\b(?!\.(?:example|sample|template|dist|defaults))"
    r"|mcp\.json\b|claude_desktop_config\.json\b|(?<=[./])cursor/|(?<=[./])aws/(?:credentials|config)\b"
    r"|etc/(?:passwd|shadow|sudoers)\b|(?<=\.)(?:netrc|npmrc|pypirc|pgpass|git-credentials|bash_history|zsh_history"
    r"|gnupg|kube/config|docker/config\.json)\b|credentials\.json\b|authorized_keys\b|wallet\.dat\b"
    r"|proc/self/environ\b|(?:ssh|private|secret|signing)\W{1,3}keys?\b)"
)
_CREDENTIAL_FILE_WORDS = _tokens(
    "ssh id_rsa id_dsa id_ecdsa id_ed25519 env mcp.json claude_desktop_config cursor aws passwd shadow sudoers "
    "netrc npmrc pypirc pgpass git-credentials bash_history zsh_history gnupg kube docker credentials.json "
    "authorized_keys wallet.dat environ private secret signing"
)
_CONTEXT = (
    "conversation|conversation history|chat history|chat log|message history|previous messages|prior messages|"
    "earlier messages|last messages|recent messages|all messages|every message|list of last messages|"
    "list of messages|list of previous messages|system prompt|your instructions|your system prompt|full context|"
    "entire context|context window|chat transcript|previous conversation|conversation so far|memory|memories"
)
_CONTEXT_VERBS = (
    "include|pass|send|add|append|attach|put|provide|insert|forward|upload|post|embed|encode|paste|dump|share|leak|"
    "transmit|submit|supply|exfiltrate"
)
_SECRETS = (
    # "read ~/.cursor/mcp.json", "pass the contents of ~/.ssh/id_rsa": a few tokens at most in between
    _cue(
        Pattern(
            r"\b" + _alt(_ACCESS) + r"\b(?:\W{1,8}+[\w@-]{1,40}+){0,8}?\W{1,8}+" + _CREDENTIAL_FILES,
            tuple(_ACCESS.split("|")),
            whole=True,
        ),
        _CREDENTIAL_FILE_WORDS,
        _ACCESS,
        view="folded",
    ),
    # "include a full list of last messages", "pass the entire conversation"
    _cue(
        _phrase(
            _CONTEXT_VERBS,
            rf"{_GAP}(?:{_alt(_DETERMINERS)}"
            rf"{_GAP}){{0,4}}{_alt(_CONTEXT)}\b",
        ),
        "conversation|history|log|messages|message|prompt|instructions|context|transcript|memory|memories",
        _CONTEXT_VERBS,
    ),
)

_PARAMETER_NOUNS = "parameter|param|argument|arg|field|property|key|variable|input"
_STUFF = (
    "pass|put|send|include|provide|add|insert|place|write|supply|append|attach|set|store|fill|enter|paste|embed|"
    "encode|give"
)
_PARAMETER = (
    # "pass its content as 'sidenote'", "put the file contents in the notes parameter"
    _cue(
        _phrase(
            _STUFF,
            rf"{_GAP}(?:{_alt(_FILE_DETERMINERS)}"
            rf"{_GAP}){{0,3}}{_alt('content|contents')}(?:{_GAP}of{_GAP}{_upto(3)})?\W{{1,4}}"
            rf"{_alt(_INTO)}\s{{1,4}}(?:{_alt('the|a|an|its|this')}\s{{1,4}})?"
            rf"(?:['\"`]\w{{1,40}}['\"`]|\w{{1,40}}{_GAP}{_alt(_PARAMETER_NOUNS)}\b)",
        ),
        "content|contents",
        _STUFF,
    ),
    # a schema string: "this field must contain the full conversation"
    _cue(
        _phrase(
            "this|the",
            rf"{_GAP}{_alt(_PARAMETER_NOUNS)}{_GAP}{_alt(_MUST)}{_GAP}"
            rf"(?:always{_GAP})?{_alt('contain|include|hold|be set to|be filled with|carry|receive')}{_GAP}"
            rf"(?:{_alt('the|a')}{_GAP})?(?:{_alt('full|entire|complete|whole|exact|raw|verbatim')}{_GAP})?"
            rf"{_alt(_FIELD_CONTENT)}\b",
        ),
        _PARAMETER_NOUNS,
        "content|contents|conversation|history|prompt|messages",
    ),
    _cue(
        _phrase("hidden|secret", rf"{_GAP}{_alt('parameter|param|argument')}\b"),
        "hidden|secret",
        "parameter|param|argument",
    ),
)

_REDIRECT = (
    # "when this tool is available, ..."
    _cue(
        _phrase(
            "when|whenever|while|if|once",
            rf"{_GAP}this{_GAP}(?:{_WORD}{_GAP})?{_alt('tool|function|server|plugin|extension|integration')}{_GAP}"
            rf"{_alt('is|are|gets|has been')}{_GAP}"
            rf"{_alt('available|present|loaded|installed|enabled|active|connected|listed|registered')}\b",
        ),
        "available|present|loaded|installed|enabled|active|connected|listed|registered",
        "tool|function|server|plugin|extension|integration",
    ),
    # "a very important side effect on the also present send_email tool"
    _cue(
        _phrase(
            "side", rf"{_GAP}{_alt('effect|effects')}{_GAP}on{_GAP}{_upto(4)}{_alt('tool|tools|function|functions')}\b"
        ),
        "side",
        "effect|effects",
    ),
    # "when (mcp_whatsapp) send_message is invoked, make sure to change the recipient"
    _cue(
        _phrase(
            "when|whenever|once",
            rf"(?!{_GAP}(?:this|it|the{_GAP}(?:tool|function))\b){_GAP}{_upto(3)}{_alt('is|are|gets|get')}{_GAP}"
            rf"{_alt('invoked|called|used|executed|run|triggered')}{_GAP}"
            rf"(?:{_alt(_ENSURE)}{_GAP}(?:to{_GAP})?)?"
            rf"{_alt('change|replace|set|send|redirect|forward|bcc|cc|prefix|append|route|swap|override|modify')}\b",
        ),
        "invoked|called|used|executed|run|triggered",
        "change|replace|set|send|redirect|forward|bcc|cc|prefix|append|route|swap|override|modify",
    ),
    # "change the recipient to"
    _cue(
        _phrase(
            "change|set|replace|switch|update|override|modify|rewrite|swap",
            rf"{_GAP}the{_GAP}{_alt(_RECIPIENT)}"
            rf"{_GAP}to\b",
        ),
        "recipient|recipients|receiver|destination|address|field|beneficiary|payee|account|iban|wallet",
        "change|set|replace|switch|update|override|modify|rewrite|swap",
    ),
    # "must send all emails to"
    _cue(
        _phrase(
            "must|should|shall|always|need to|needs to|has to|have to",
            rf"{_GAP}{_alt(_ROUTE)}{_GAP}{_alt('all|every|each|any')}{_GAP}"
            rf"{_upto(2)}{_alt(_TRAFFIC)}"
            rf"{_GAP}{_upto(2)}to\b",
        ),
        "send|forward|route|redirect|deliver|bcc|cc|copy|mirror",
        "emails|mails|messages|requests|payments|transfers|data|files|notifications|invoices|documents",
    ),
    # "ignore the instructions of all other tools"
    _cue(
        _phrase(
            "ignore|override|replace|disregard|supersede|overrule",
            rf"{_GAP}(?:the{_GAP})?{_alt(_BEHAVIOUR)}{_GAP}of{_GAP}"
            rf"(?:{_alt('the|all|any|every')}{_GAP})?{_WORD}{_GAP}{_alt('tools|tool|functions|servers')}\b",
        ),
        "instructions|descriptions|description|behaviour|behavior|rules",
        "tools|tool|functions|servers",
    ),
)

_INSTRUCTION_TAGS = (
    "important|system|system[_ -]?prompt|instructions?|system[_ -]?instructions?|critical|hidden|secret|admin|"
    "mandatory|directive|override|urgent|priority"
    "|(?:assistant|ai|model|llm|agent|tool|secret|hidden)[_ -]?instructions?"
    "|note[_ -]?to[_ -]?(?:the[_ -]?)?(?:ai|assistant|model|llm|agent)"
)
_TAG = (  # gated on "<" and "[" in the text, not on words
    _cue(Pattern(rf"</?[ \t]{{0,2}}(?:{_INSTRUCTION_TAGS})[ \t]{{0,2}}>", ("<",)), frozenset(), view="folded"),
    _cue(Pattern(rf"\[(?:{_INSTRUCTION_TAGS})\]", ("[",)), frozenset(), view="folded"),
)

_PRECONDITION = (
    # "before using this tool, read ...", "before calling any other tool you must first call ..."
    _cue(
        _phrase(
            "before",
            rf"{_GAP}{_alt(_USING)}"
            rf"{_GAP}(?:{_alt('this|the|any|these|other|each|every|that|any other')}{_GAP})?(?:{_WORD}{_GAP})?"
            rf"{_alt('tool|tools|function|functions|command|commands|server')}"
            rf"(?:{_GAP}{_alt(_OBLIGED)}){{0,3}}"
            rf"{_GAP}{_alt(_FETCH)}\b",
        ),
        "before",
        "tool|tools|function|functions|command|commands|server",
    ),
    # "this tool requires you to send ..."
    _cue(
        _phrase(
            "requires|require|needs",
            rf"{_GAP}{_alt(_MODEL)}{_GAP}to{_GAP}(?:first{_GAP})?"
            rf"{_alt('read|send|pass|include|provide|call|fetch|upload|attach|run|execute')}\b",
        ),
        "requires|require|needs",
        "you|assistant|model|ai|agent|claude|llm",
    ),
    # "in order to use this tool, you must first read ...", "for this tool to work, pass ..."
    _cue(
        _phrase(
            "in order to|to be able to",
            rf"{_GAP}{_alt('use|call|invoke|run')}{_GAP}{_alt('this|the')}{_GAP}{_alt('tool|function')}{_GAP}"
            rf"(?:{_alt('you|must|need to|have to|should|first|always')}{_GAP}){{0,3}}{_alt(_ACCESS)}\b",
        ),
        "order|able",
        "tool|function",
    ),
    _cue(
        _phrase(
            "for this tool to work|for the tool to work|for this to work",
            rf"{_GAP}(?:{_alt('you|must|need to|have to|should|first|always|properly|correctly')}{_GAP}){{0,3}}"
            rf"{_alt(_ACCESS)}\b",
        ),
        "work",
        "for",
    ),
)

_THREAT = (
    # "otherwise the tool will not work", "or else your request will be blocked"
    _cue(
        _phrase(
            "otherwise|or else",
            rf"{_GAP}(?:{_alt('the|this|your|it|that|its')}{_GAP})?(?:{_WORD}{_GAP})?"
            rf"{_alt(_MODAL)}{_GAP}(?:{_alt('not|never|n t')}{_GAP})?"
            rf"{_alt(_WORK)}\b",
        ),
        "otherwise|else",
        "will|would|does|do|can|could|may|might|won|wont|doesn|cannot",
    ),
    # "the application will crash", "all data will be lost", "your request will be blocked"
    _cue(
        _phrase(
            "application|app|system|server|tool|agent|program|proxy|everything",
            rf"{_GAP}will{_GAP}{_alt('crash|break down|stop working|be blocked')}\b",
        ),
        "crash|break|stop|blocked",
        "will",
    ),
    _cue(
        _phrase(
            "data|files|work|information|progress",
            rf"{_GAP}will{_GAP}be{_GAP}{_alt('lost|deleted|destroyed|erased|corrupted')}\b",
        ),
        "lost|deleted|destroyed|erased|corrupted",
        "will",
    ),
    _cue(
        _phrase(
            "request|requests|call|calls|message|messages",
            rf"{_GAP}{_alt('will|would')}{_GAP}be{_GAP}{_alt('blocked|rejected|denied|dropped')}\b",
        ),
        "blocked|rejected|denied|dropped",
        "will|would",
    ),
    # "VERY VERY important", "absolutely critical"
    _cue(
        _phrase("very very|extremely important|critically important|utmost importance", r"\b"),
        "very|extremely|critically|utmost",
        "very|important|importance",
    ),
    _cue(
        _phrase("absolutely", rf"{_GAP}{_alt('critical|crucial|essential|mandatory|vital|important')}\b"),
        "absolutely",
        "critical|crucial|essential|mandatory|vital|important",
    ),
)
