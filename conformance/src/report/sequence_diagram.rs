//! A case's trace drawn as a sequence diagram, in inline SVG: a lifeline per
//! actor (the probe, each client session, the server), an arrow per packet
//! or HTTP exchange, a note per session, log, fault or verdict line; the
//! time of each line in the left column, and a band labelled `+2500 ms`
//! where [`WAIT_SHOWN_MS`] or more passed between two lines. The diagram
//! shows at most [`MAX_ROWS`] lines (the first and the last) and says how
//! many it left out between them.

use std::fmt::Write as _;

use siosim_harness::{EventKind, Trace, TraceEvent};

use crate::probe::truncated;
use crate::report::junit::escape;

/// Trace lines drawn per diagram; a longer trace ends with an "… N more" row.
pub const MAX_ROWS: usize = 120;

/// The actor every arrow points to or comes from.
const SERVER: &str = "server";

/// Time between two lines from which the diagram draws a wait band.
pub const WAIT_SHOWN_MS: u64 = 100;

const ROW_HEIGHT: usize = 24;
const WAIT_HEIGHT: usize = 16;
const HEAD_HEIGHT: usize = 44;
const TIME_GUTTER: usize = 64;
/// The narrowest lane; with few actors, lanes widen to fill [`TARGET_WIDTH`].
const MIN_LANE_WIDTH: usize = 220;
const TARGET_WIDTH: usize = 1100;
/// Roughly how wide one character of the 11px monospace labels is.
const CHAR_WIDTH: f64 = 6.7;

/// How one trace line is drawn.
enum Mark {
    /// From the actor to the server.
    Request,
    /// From the server to the actor.
    Answer,
    /// A note on the actor's lifeline.
    Note,
    /// A note across every lifeline (faults of the simulated network).
    Banner,
}

/// The SVG element for `trace`.
pub fn render(trace: &Trace) -> String {
    let lanes = lanes(trace);
    let lane_width = ((TARGET_WIDTH - TIME_GUTTER) / lanes.len()).max(MIN_LANE_WIDTH);
    let lane_x = |actor: &str| {
        let index = lanes.iter().position(|a| a == actor).unwrap_or(0);
        TIME_GUTTER + lane_width / 2 + index * lane_width
    };
    let rows = with_waits(rows(trace));
    let width = TIME_GUTTER + lanes.len() * lane_width;
    let height = HEAD_HEIGHT + rows.iter().map(Row::height).sum::<usize>() + 16;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"sequence\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"sequence diagram\">"
    );
    svg.push_str(ARROW_HEADS);
    for actor in &lanes {
        let x = lane_x(actor);
        let _ = write!(
            svg,
            "<line class=\"life\" x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{bottom}\"/>\
             <rect class=\"head\" x=\"{left}\" y=\"6\" width=\"{box_width}\" height=\"24\" rx=\"4\"/>\
             <text class=\"head\" x=\"{x}\" y=\"22\">{name}</text>",
            top = 30,
            bottom = height - 8,
            left = x - 80,
            box_width = 160,
            name = escape(&truncated(actor, 28)),
        );
    }
    let mut top = HEAD_HEIGHT;
    for row in &rows {
        let y = top + row.height() / 2;
        top += row.height();
        let event = match row {
            Row::Event(event) => event,
            Row::Hidden(hidden) => {
                let _ = write!(
                    svg,
                    "<rect class=\"more\" x=\"{TIME_GUTTER}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\
                     <text class=\"more\" x=\"{}\" y=\"{}\">… {hidden} more trace lines not drawn …</text>",
                    y - ROW_HEIGHT / 2 + 2,
                    width - TIME_GUTTER,
                    ROW_HEIGHT - 4,
                    width / 2,
                    y + 4
                );
                continue;
            }
            Row::Wait(ms) => {
                // Drawn over the lifelines: a break in them, as UML draws
                // a delay.
                let _ = write!(
                    svg,
                    "<g class=\"wait\"><rect class=\"wait\" x=\"0\" y=\"{}\" width=\"{width}\" height=\"{}\"/>\
                     <text class=\"wait\" x=\"4\" y=\"{}\">+{ms} ms</text></g>",
                    y - WAIT_HEIGHT / 2,
                    WAIT_HEIGHT,
                    y + 4
                );
                continue;
            }
        };
        let _ = write!(
            svg,
            "<text class=\"time\" x=\"{}\" y=\"{}\">{}ms</text>",
            TIME_GUTTER - 8,
            y + 4,
            event.at_us / 1000
        );
        draw_event(
            &mut svg,
            event,
            y,
            lane_x(&event.actor),
            lane_x(SERVER),
            lane_width,
            width,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One row of the diagram.
enum Row<'a> {
    Event(&'a TraceEvent),
    /// How many lines were left out here.
    Hidden(usize),
    /// Milliseconds that passed between the lines around it.
    Wait(u64),
}

impl Row<'_> {
    fn height(&self) -> usize {
        match self {
            Row::Wait(_) => WAIT_HEIGHT,
            Row::Event(_) | Row::Hidden(_) => ROW_HEIGHT,
        }
    }
}

/// `rows` with a [`Row::Wait`] between two consecutive lines at least
/// [`WAIT_SHOWN_MS`] apart (not across the lines left out).
fn with_waits(rows: Vec<Row<'_>>) -> Vec<Row<'_>> {
    let mut drawn = Vec::with_capacity(rows.len());
    let mut previous_at_us: Option<u64> = None;
    for row in rows {
        match &row {
            Row::Event(event) => {
                let waited_ms = previous_at_us
                    .map(|at| event.at_us.saturating_sub(at) / 1000)
                    .unwrap_or(0);
                if waited_ms >= WAIT_SHOWN_MS {
                    drawn.push(Row::Wait(waited_ms));
                }
                previous_at_us = Some(event.at_us);
            }
            Row::Hidden(_) | Row::Wait(_) => previous_at_us = None,
        }
        drawn.push(row);
    }
    drawn
}

/// The rows drawn: every line of a short trace; of a long one, the first
/// and the last [`MAX_ROWS`]` / 2` (where a failure usually shows) and a
/// marker between them.
fn rows(trace: &Trace) -> Vec<Row<'_>> {
    let events = &trace.events;
    if events.len() <= MAX_ROWS {
        return events.iter().map(Row::Event).collect();
    }
    let head = MAX_ROWS / 2;
    let tail = MAX_ROWS - head;
    let mut rows: Vec<Row<'_>> = events[..head].iter().map(Row::Event).collect();
    rows.push(Row::Hidden(events.len() - head - tail));
    rows.extend(events[events.len() - tail..].iter().map(Row::Event));
    rows
}

/// The lifelines: actors in order of first appearance, the server last.
fn lanes(trace: &Trace) -> Vec<String> {
    let mut lanes: Vec<String> = Vec::new();
    for event in &trace.events {
        if event.actor != SERVER
            && !matches!(mark(event), Mark::Banner)
            && !lanes.contains(&event.actor)
        {
            lanes.push(event.actor.clone());
        }
    }
    lanes.push(SERVER.to_owned());
    lanes
}

fn mark(event: &TraceEvent) -> Mark {
    match event.kind {
        EventKind::Send => Mark::Request,
        EventKind::Recv => Mark::Answer,
        EventKind::Http if event.text.starts_with("->") => Mark::Answer,
        EventKind::Http => Mark::Request,
        EventKind::Fault if event.actor == "sim" => Mark::Banner,
        _ => Mark::Note,
    }
}

/// The CSS class of a line's drawing, by its kind.
fn class(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Send => "send",
        EventKind::Recv => "recv",
        EventKind::Http => "http",
        EventKind::Session => "sess",
        EventKind::Log => "log",
        EventKind::Fault => "fault",
        EventKind::Pass => "pass",
        EventKind::Fail | EventKind::Violation => "fail",
    }
}

fn draw_event(
    svg: &mut String,
    event: &TraceEvent,
    y: usize,
    actor_x: usize,
    server_x: usize,
    lane_width: usize,
    width: usize,
) {
    let class = class(event.kind);
    let tooltip = escape(&truncated(&event.text, 600));
    let _ = write!(svg, "<g class=\"{class}\"><title>{tooltip}</title>");
    match mark(event) {
        Mark::Request | Mark::Answer if actor_x != server_x => {
            let (from, to) = match mark(event) {
                Mark::Request => (actor_x, server_x),
                _ => (server_x, actor_x),
            };
            let span = from.abs_diff(to);
            let label = fit(&event.text, span.saturating_sub(12));
            let _ = write!(
                svg,
                "<line class=\"arrow\" x1=\"{from}\" y1=\"{y}\" x2=\"{to}\" y2=\"{y}\" marker-end=\"url(#head-{class})\"/>\
                 <text class=\"label\" x=\"{mid}\" y=\"{text_y}\">{label}</text>",
                mid = from.min(to) + span / 2,
                text_y = y - 4,
                label = escape(&label),
            );
        }
        Mark::Banner => note(
            svg,
            &event.text,
            TIME_GUTTER + 6,
            width - TIME_GUTTER - 12,
            y,
        ),
        _ => {
            // The server's lane is the last: its notes (log lines, long
            // ones) grow leftwards over the lanes of arrows.
            let right = actor_x + lane_width / 2 - 8;
            let box_width = if actor_x == server_x {
                (2 * lane_width).min(right - TIME_GUTTER - 8)
            } else {
                lane_width - 16
            };
            let left = if actor_x == server_x {
                right - box_width
            } else {
                actor_x - box_width / 2
            };
            note(svg, &event.text, left, box_width, y);
        }
    }
    svg.push_str("</g>");
}

/// A note box `width` wide from `left`, centred on row `y`.
fn note(svg: &mut String, text: &str, left: usize, width: usize, y: usize) {
    let _ = write!(
        svg,
        "<rect class=\"note\" x=\"{left}\" y=\"{top}\" width=\"{width}\" height=\"{height}\" rx=\"3\"/>\
         <text class=\"note\" x=\"{text_x}\" y=\"{text_y}\">{label}</text>",
        top = y - ROW_HEIGHT / 2 + 3,
        height = ROW_HEIGHT - 6,
        text_x = left + 6,
        text_y = y + 4,
        label = escape(&fit(text, width.saturating_sub(12))),
    );
}

/// `text` on one line, cut to what fits in `pixels`.
fn fit(text: &str, pixels: usize) -> String {
    let chars = ((pixels as f64 / CHAR_WIDTH) as usize).max(4);
    truncated(&text.replace(['\n', '\r'], " "), chars - 1)
}

/// Arrowheads, one colour per kind of arrow.
const ARROW_HEADS: &str = "<defs>\
<marker id=\"head-send\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#2563eb\"/></marker>\
<marker id=\"head-recv\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#15803d\"/></marker>\
<marker id=\"head-http\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#6b7280\"/></marker>\
</defs>";

/// The diagram's style, for the page's `<style>`.
pub const STYLE: &str = "
svg.sequence { font: 11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #fff; }
svg.sequence line.life { stroke: #cbd5e1; stroke-dasharray: 4 3; }
svg.sequence rect.head { fill: #1e293b; }
svg.sequence text.head { fill: #fff; text-anchor: middle; font-weight: 600; }
svg.sequence text.time { fill: #64748b; text-anchor: end; }
svg.sequence text.label { text-anchor: middle; fill: #0f172a; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
svg.sequence text.more { text-anchor: middle; fill: #475569; font-style: italic; }
svg.sequence rect.more { fill: #f1f5f9; }
svg.sequence rect.wait { fill: #f8fafc; }
svg.sequence text.wait { fill: #475569; font-style: italic; }
svg.sequence line.arrow { stroke-width: 1.5; }
svg.sequence g.send line.arrow { stroke: #2563eb; }
svg.sequence g.recv line.arrow { stroke: #15803d; }
svg.sequence g.http line.arrow { stroke: #6b7280; }
svg.sequence rect.note { stroke-width: 1; }
svg.sequence text.note { fill: #0f172a; }
svg.sequence g.sess rect.note { fill: #f1f5f9; stroke: #94a3b8; }
svg.sequence g.log rect.note { fill: #f5f3ff; stroke: #a78bfa; }
svg.sequence g.fault rect.note { fill: #fff7ed; stroke: #fb923c; }
svg.sequence g.pass rect.note { fill: #f0fdf4; stroke: #4ade80; }
svg.sequence g.fail rect.note { fill: #fef2f2; stroke: #ef4444; }
svg.sequence g.send rect.note, svg.sequence g.recv rect.note, svg.sequence g.http rect.note { fill: #fff; stroke: #cbd5e1; }
";
