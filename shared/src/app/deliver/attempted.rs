//! What became of one job in hand: skipped (delivered already), left queued, waiting in
//! place, or sent (or given up on without a send) with what follows for its message.

use super::FollowUp;
use crate::domain::delivery_log::LogEntry;

pub(super) enum Attempted {
    /// Already delivered.
    Skipped(String),
    /// The claim could not be taken (another worker holds it) or read: the message stays
    /// queued.
    Failed(String),
    /// An ordered job left waiting in place, nothing sent: its next attempt is not due,
    /// another worker holds its claim, or an earlier job of its line is unfinished.
    Waiting(String, Box<FollowUp>),
    Sent {
        message_id: String,
        success: bool,
        /// Whether this job stands for its POST in the circuit's results and the latency
        /// figures: every lone job, one job of a batch.
        counted: bool,
        latency_ms: u64,
        /// The attempt as the delivery log keeps it.
        entry: Box<LogEntry>,
        // Boxed: a follow-up carries a whole job, the other variants a message id.
        follow_up: Box<FollowUp>,
    },
}

impl Attempted {
    /// Whether the next job of an ordered line may go now: this one was delivered (or
    /// found delivered). Anything else — a retry, a give-up whose dead letter is not sent
    /// yet, trouble — stops the line for this batch.
    pub(super) fn lets_line_go_on(&self) -> bool {
        match self {
            Self::Skipped(_) => true,
            Self::Sent { follow_up, .. } => matches!(**follow_up, FollowUp::Done),
            Self::Failed(_) | Self::Waiting(..) => false,
        }
    }
}
