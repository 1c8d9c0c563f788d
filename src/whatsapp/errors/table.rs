//! The rows of Meta's error-code table, in code order: for each code, what an agent reads and how
//! the send pipeline retries it, then (`.graph(…)`) how the Graph API answers it, where we know.
//! Agent texts are ours; Meta's titles and details are Meta's, from its error-code page and the
//! recorded answers in `shared/corpus/graph`.

use super::{
    ErrorInfo, GraphAnswer,
    Retry::{self, Backoff, Never, Recipient},
};

const FIX_CONFIG: &str = "Tell an admin: the number's setup in Switchboard or Meta needs fixing.";

/// A row with no Graph answer recorded yet.
const fn row(
    code: i64,
    title: &'static str,
    retry: Retry,
    explanation: &'static str,
    action: &'static str,
) -> ErrorInfo {
    ErrorInfo {
        code,
        title,
        explanation,
        action,
        retry,
        detailed: false,
        graph: None,
    }
}

impl ErrorInfo {
    /// How the Graph API answers the code: status, `is_transient`, Meta's title and details.
    const fn graph(
        self,
        status: u16,
        transient: bool,
        title: &'static str,
        details: &'static str,
    ) -> Self {
        let graph = GraphAnswer {
            status,
            transient,
            title,
            details,
            subcode: None,
        };
        Self {
            graph: Some(graph),
            ..self
        }
    }

    /// The `error_subcode` Meta's answer carries (after [`ErrorInfo::graph`]).
    const fn subcode(mut self, subcode: i64) -> Self {
        if let Some(graph) = &mut self.graph {
            graph.subcode = Some(subcode);
        }
        self
    }

    /// Meta's details name the cause, so agents are shown them.
    const fn detailed(self) -> Self {
        Self {
            detailed: true,
            ..self
        }
    }
}

#[rustfmt::skip]
pub(super) static TABLE: &[ErrorInfo] = &[
    row(0, "AuthException", Never,
        "Meta could not sign in with this number's access token: it expired, was revoked, or the app was blocked.",
        "Tell an admin to refresh the number's access token; nothing can be sent until then.")
        .graph(401, false, "AuthException",
            "We were unable to authenticate the app user."),
    row(1, "API Unknown", Backoff,
        "Meta had an unexpected problem on its side.",
        "Nothing to do: it is retried automatically. If it keeps failing, check Meta's status page.")
        .graph(500, true, "API Unknown",
            "Invalid request or possible server error."),
    row(2, "API Service", Backoff,
        "Meta's service is temporarily down or overloaded.",
        "Nothing to do: it is retried automatically.")
        .graph(503, true, "API Service",
            "Temporary due to downtime or due to being overloaded."),
    row(3, "API Method", Never,
        "The Meta app is not allowed to use this feature.",
        "Tell an admin to check the Meta app's permissions and features.")
        .graph(500, false, "API Method",
            "Capability or permissions issue."),
    row(4, "API Too Many Calls", Backoff,
        "The Meta app made too many requests in a short time.",
        "Nothing to do: sending slows down and retries automatically.")
        .graph(400, true, "API Too Many Calls",
            "The app has reached its API call rate limit."),
    row(10, "Permission Denied", Never,
        "The Meta app lacks a permission it needs (or it was revoked).",
        "Tell an admin to grant whatsapp_business_messaging (and related permissions) to the app.")
        .graph(403, false, "Permission Denied",
            "Permission is either not granted or has been removed."),
    row(17, "User request limit reached", Backoff,
        "Too many requests were made with this access token in a short time.",
        "Nothing to do: sending slows down and retries automatically."),
    row(100, "Invalid parameter", Never,
        "Meta rejected the request because a field is missing, misspelled or has a wrong value (or an id, such as the phone number's, is wrong).",
        "Check the message content; if it looks right, tell an admin, who can check the number's ids.")
        .graph(400, false, "Invalid parameter",
            "The request included one or more unsupported or misspelled parameters.")
        .detailed(),
    row(104, "Access token required", Never,
        "The request reached Meta without an access token.",
        FIX_CONFIG),
    row(190, "Access token has expired", Never,
        "This number's access token has expired or is invalid, so Meta refuses every message.",
        "Tell an admin to refresh the number's access token; nothing can be sent until then."),
    row(200, "API Permission", Never,
        "The Meta app is missing a permission for this number or account, or it was revoked.",
        "Tell an admin to check the app's permissions and that the number is assigned to it.")
        .graph(403, false, "API Permission",
            "Permission is either not granted or has been removed."),
    row(368, "Temporarily blocked for policy violations", Never,
        "Meta restricted this WhatsApp Business Account for breaking its policies.",
        "Stop sending and tell an admin: the restriction must be resolved in Meta Business Manager.")
        .graph(403, false, "Temporarily blocked for policies violations",
            "The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy."),
    row(803, "Object does not exist", Never,
        "Meta does not know the phone number or account id this message was sent from.",
        FIX_CONFIG),
    row(80007, "Rate limit issues", Backoff,
        "The WhatsApp Business Account reached its request limit for now.",
        "Nothing to do: sending slows down and retries automatically.")
        .graph(400, true, "Rate limit issues",
            "The WhatsApp Business Account has reached its rate limit."),
    row(130429, "Rate limit hit", Backoff,
        "This number is sending more messages per second than Meta allows.",
        "Nothing to do: the message is queued and retried automatically.")
        .graph(400, true, "Rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number in a short period of time")
        .subcode(2494055),
    row(130472, "User's number is part of an experiment", Never,
        "Meta held back this marketing message because the customer is in one of its experiment groups.",
        "Nothing to fix; don't resend it. Reach the customer another way if it matters.")
        .graph(400, false, "User's number is part of an experiment",
            "Failed to send message because this user's phone number is part of an experiment"),
    row(130497, "Business account is restricted from messaging users in this country", Never,
        "Meta does not let this business message customers in the recipient's country.",
        "Reach the customer another way; tell an admin if this is unexpected."),
    row(131000, "Something went wrong", Backoff,
        "Meta failed to send the message for an unknown reason.",
        "Nothing to do: it is retried a few times. If it still fails, try again later or tell an admin.")
        .graph(500, true, "Something went wrong",
            "Message failed to send due to an unknown error.")
        .detailed(),
    row(131005, "Access denied", Never,
        "The Meta app is not allowed to send from this number (permission missing or removed).",
        "Tell an admin to check the app's permissions for this number.")
        .graph(403, false, "Access denied",
            "Permission is either not granted or has been removed."),
    row(131008, "Required parameter is missing", Never,
        "The message was sent to Meta without a field it requires.",
        "Check the message is complete; if it is, tell an admin (this is a bug).")
        .graph(400, false, "Required parameter is missing",
            "The request is missing a required parameter.")
        .detailed(),
    row(131009, "Parameter value is not valid", Never,
        "One of the values in the message was not accepted by Meta.",
        "Correct the value and send again.")
        .graph(400, false, "Parameter value is not valid",
            "One or more parameter values are invalid.")
        .detailed(),
    row(131016, "Service unavailable", Backoff,
        "A Meta service is temporarily unavailable.",
        "Nothing to do: it is retried automatically.")
        .graph(503, true, "Service unavailable",
            "A service is temporarily unavailable."),
    row(131021, "Recipient cannot be sender", Never,
        "The message was addressed to the business's own number.",
        "Send it to the customer's number instead.")
        .graph(400, false, "Recipient cannot be sender",
            "Sender and recipient phone number is the same."),
    row(131026, "Message undeliverable", Never,
        "WhatsApp could not deliver the message: the number may not use WhatsApp, the app may be outdated, or the customer has not accepted WhatsApp's terms.",
        "Check the number with the customer, or reach them by another channel; resending won't help.")
        .graph(400, false, "Message Undeliverable",
            "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted the new Terms of Service and Privacy Policy; the recipient is using an old WhatsApp version."),
    row(131030, "Recipient phone number not in allowed list", Never,
        "This is a test number, and it may only message numbers on its allowed list.",
        "Tell an admin to add the recipient to the allowed list, or use a production number.")
        .graph(400, false, "Recipient phone number not in allowed list",
            "Add recipient phone number to recipient list and try again."),
    row(131031, "Business Account locked", Never,
        "Meta locked or restricted this business account, or could not verify its details (such as the two-step PIN).",
        "Stop sending and tell an admin: it must be resolved in Meta Business Manager.")
        .graph(403, false, "Account has been locked",
            "The WhatsApp Business Account is restricted or disabled, or data in the request could not be verified against the account."),
    row(131037, "Display name approval needed", Never,
        "This number's display name has not been approved by Meta yet.",
        "Tell an admin to get the display name approved in WhatsApp Manager."),
    row(131042, "Business eligibility payment issue", Never,
        "Meta could not charge the business for messages: the payment method is missing or has a problem.",
        "Tell an admin to fix the payment method in Meta Business Manager, then resend.")
        .graph(400, false, "Business eligibility payment issue",
            "There was an error related to your payment method."),
    row(131045, "Incorrect certificate", Never,
        "This number's registration with Meta is not valid.",
        "Tell an admin to register the number again.")
        .graph(400, false, "Incorrect certificate",
            "Message failed to send due to a phone number registration error."),
    row(131047, "Re-engagement message", Never,
        "WhatsApp refused this message as outside the 24-hour customer service window, so until the customer writes again it only delivers approved templates.",
        "Send an approved template message instead; you can write freely again once the customer replies.")
        .graph(400, false, "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number."),
    row(131048, "Spam rate limit hit", Never,
        "Meta restricted sending from this number because earlier messages were blocked or reported as spam.",
        "Stop bulk sends and tell an admin to review the number's quality rating.")
        .graph(400, false, "Spam rate limit hit",
            "Message failed to send because there are restrictions on how many messages can be sent from this phone number. This may be because too many previous messages were blocked or flagged as spam."),
    row(131049, "Message not delivered to maintain healthy ecosystem engagement", Never,
        "Meta held back this marketing message because the customer has recently received enough of them.",
        "Don't resend now; wait at least a day, or reach the customer another way.")
        .graph(400, false, "This message was not delivered to maintain healthy ecosystem engagement.",
            "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."),
    row(131050, "User stopped marketing messages", Never,
        "The customer chose not to receive marketing messages from this business.",
        "Don't send them marketing messages; service messages are still fine."),
    row(131051, "Unsupported message type", Never,
        "This kind of message is not supported by WhatsApp.",
        "Send it as a different kind of message (for example text, or as a document).")
        .graph(400, false, "Unsupported message type",
            "Message type is not currently supported.")
        .detailed(),
    row(131052, "Media download error", Never,
        "The photo or file the customer sent could not be downloaded from WhatsApp.",
        "Ask the customer to send it again."),
    row(131053, "Media upload error", Never,
        "WhatsApp could not fetch or accept the attached file (unsupported type, or its web link did not answer).",
        "Check the file type and size, attach it again and resend.")
        .graph(400, false, "Media upload error",
            "Unable to upload the media used in the message.")
        .detailed(),
    row(131056, "(Business Account, Consumer Account) pair rate limit hit", Recipient,
        "Too many messages were sent to this customer in a short time.",
        "Nothing to do: messages to this customer are slowed down and retried automatically.")
        .graph(400, true, "(Business Account, Consumer Account) pair rate limit hit",
            "Too many messages sent from the sender phone number to the same recipient phone number in a short period of time."),
    row(131057, "Account in maintenance mode", Backoff,
        "This business account is briefly in maintenance (for example a capacity upgrade).",
        "Nothing to do: it is retried automatically.")
        .graph(503, true, "Account in maintenance mode",
            "Business Account is in maintenance mode."),
    row(132000, "Number of parameters does not match the expected number of params", Never,
        "The template was sent with a different number of variables than it has.",
        "Fill in every variable of the template (and no extra ones), then send again.")
        .graph(400, false, "Number of parameters does not match the expected number of params",
            "The number of variable parameter values included in the request did not match the number of variable parameters defined in the template.")
        .detailed(),
    row(132001, "Template does not exist", Never,
        "No approved template with this name exists in this language.",
        "Pick another template or language; an admin can check its name and approval status.")
        .graph(404, false, "Template name does not exist in the translation",
            "The template does not exist in the specified language or the template has not been approved."),
    row(132005, "Translated text too long", Never,
        "With the variables filled in, the template's text is longer than WhatsApp allows.",
        "Shorten the variable values and send again.")
        .graph(400, false, "Translated text too long",
            "Translated text is too long."),
    row(132007, "Format character policy violated", Never,
        "The template or its variable values break WhatsApp's content rules.",
        "Change the variable values (remove unusual formatting or characters) and send again.")
        .graph(400, false, "Template Format Character Policy Violated",
            "Template content violates a WhatsApp policy.")
        .detailed(),
    row(132008, "Template parameter value invalid", Never,
        "One of the template's variable values is in the wrong format.",
        "Correct the variable value and send again.")
        .detailed(),
    row(132012, "Parameter format does not match format in the created template", Never,
        "A template variable was given in the wrong form (for example an image where the template expects a video).",
        "Fill in each variable with the kind of value the template expects, then send again.")
        .graph(400, false, "Parameter format does not match format in the created template",
            "Variable parameter values formatted incorrectly.")
        .detailed(),
    row(132015, "Template is paused", Never,
        "Meta paused this template for a few hours because of its low quality rating.",
        "Use another template, or try again after the pause ends.")
        .graph(400, false, "Template is Paused",
            "Template is paused due to low quality so it cannot be sent in a template message."),
    row(132016, "Template is disabled", Never,
        "Meta permanently disabled this template after pausing it too often.",
        "Use another template; an admin can create a replacement.")
        .graph(400, false, "Template is Disabled",
            "Template has been paused too many times due to low quality and is now permanently disabled."),
    row(132068, "Flow is in blocked state", Never,
        "The form (WhatsApp Flow) in this message is blocked.",
        "Tell an admin to fix or republish the flow."),
    row(132069, "Flow is in throttled state", Never,
        "The form (WhatsApp Flow) in this message was sent too often and is limited for now.",
        "Try again in an hour, or send without the flow."),
    row(133010, "Phone number not registered", Never,
        "This business number is not registered with the WhatsApp Cloud API.",
        "Tell an admin to register the number with Meta (it needs the two-step PIN).")
        .graph(400, false, "Phone number Not Registered",
            "Phone number not registered on the Whatsapp Business Platform."),
    row(133016, "Account has been registered or deregistered too many times", Never,
        "The number was registered or deregistered too often in a short time.",
        "Tell an admin to wait before registering the number again."),
    row(135000, "Generic user error", Never,
        "Meta rejected the message for a reason it did not specify.",
        "Check the message and try again by hand; if it fails again, tell an admin.")
        .detailed(),
];
