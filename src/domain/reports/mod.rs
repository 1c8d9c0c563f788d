//! Reports (issue 9, §4): each day's figures per number, worked out in the background ([`rollup`],
//! recent days by the hour: [`hours`]) from the messages ([`tally`]), added up over any period
//! ([`period`]).

pub mod figures;
pub mod histogram;
pub mod hours;
pub mod period;
pub mod rollup;
pub mod tally;
