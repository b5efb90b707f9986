//! Graphviz DOT subset importer, parsed by hand. The crates checked do not fit:
//! `dot-parser` is GPL-2.0-or-later (this crate is MIT/Apache) and pulls in pest;
//! `graphviz-dot-parser` is incomplete (no comments, attribute statements or chains); and
//! neither hands back line:column for semantic errors such as a duplicate edge.
//!
//! Accepted:
//! ```text
//! [strict] digraph [name] {
//!   a -> b -> c [kind=soft, fallback=true];   // chains; edge attributes apply to each edge
//!   "quoted id" [weight=3, tier=0, cells=4];  // node statement
//!   node [cells=2]; edge [kind=soft];         // defaults for what follows
//!   rankdir = LR;                             // graph attributes: ignored
//! }
//! ```
//! Comments: `//`, `#` and `/* */`. Bare ids may contain `-` (an extension: `user-service`
//! is not valid Graphviz, quote it for Graphviz tools). Unknown attributes (`label`,
//! `shape`, ...) are ignored so real files load. Nodes are created on first mention, in
//! that order; but a file that declares nodes (node statements) must declare every node it
//! uses, so a typo in an edge is caught as an unknown node. Subgraphs, ports and undirected
//! graphs are errors. Every error has file:line:column.

use std::collections::BTreeMap;

use super::{RawEdge, RawGraph, TopologyError};
use crate::model::graph::EdgeKind;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Id(String),
    Arrow,
    Undirected,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Eq,
    Semi,
    Comma,
    Other(char),
    Eof,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
    column: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Id(s) => format!("`{s}`"),
        Tok::Arrow => "`->`".to_string(),
        Tok::Undirected => "`--`".to_string(),
        Tok::LBrace => "`{`".to_string(),
        Tok::RBrace => "`}`".to_string(),
        Tok::LBracket => "`[`".to_string(),
        Tok::RBracket => "`]`".to_string(),
        Tok::Eq => "`=`".to_string(),
        Tok::Semi => "`;`".to_string(),
        Tok::Comma => "`,`".to_string(),
        Tok::Other(c) => format!("`{c}`"),
        Tok::Eof => "end of file".to_string(),
    }
}

fn is_id_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

/// Splits the text into tokens with 1-based positions.
fn lex(path: &str, text: &str) -> Result<Vec<Token>, TopologyError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let advance = |i: &mut usize, line: &mut usize, col: &mut usize, chars: &[char]| {
        if chars[*i] == '\n' {
            *line += 1;
            *col = 1;
        } else {
            *col += 1;
        }
        *i += 1;
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let (tl, tc) = (line, col);
        if c.is_whitespace() {
            advance(&mut i, &mut line, &mut col, &chars);
            continue;
        }
        if c == '#' || (c == '/' && next == Some('/')) {
            while i < chars.len() && chars[i] != '\n' {
                advance(&mut i, &mut line, &mut col, &chars);
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            advance(&mut i, &mut line, &mut col, &chars);
            advance(&mut i, &mut line, &mut col, &chars);
            loop {
                if i >= chars.len() {
                    return Err(TopologyError {
                        file: path.to_string(),
                        line: tl,
                        column: tc,
                        message: "unterminated `/*` comment; expected `*/`".to_string(),
                    });
                }
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    advance(&mut i, &mut line, &mut col, &chars);
                    advance(&mut i, &mut line, &mut col, &chars);
                    break;
                }
                advance(&mut i, &mut line, &mut col, &chars);
            }
            continue;
        }
        let tok = if c == '"' {
            advance(&mut i, &mut line, &mut col, &chars);
            let mut s = String::new();
            loop {
                if i >= chars.len() {
                    return Err(TopologyError {
                        file: path.to_string(),
                        line: tl,
                        column: tc,
                        message: "unterminated quoted id; expected a closing `\"`".to_string(),
                    });
                }
                let ch = chars[i];
                advance(&mut i, &mut line, &mut col, &chars);
                match ch {
                    '"' => break,
                    '\\' if i < chars.len() && chars[i] == '"' => {
                        s.push('"');
                        advance(&mut i, &mut line, &mut col, &chars);
                    }
                    _ => s.push(ch),
                }
            }
            Tok::Id(s)
        } else if c == '-' && next == Some('>') {
            advance(&mut i, &mut line, &mut col, &chars);
            advance(&mut i, &mut line, &mut col, &chars);
            Tok::Arrow
        } else if c == '-' && next == Some('-') {
            advance(&mut i, &mut line, &mut col, &chars);
            advance(&mut i, &mut line, &mut col, &chars);
            Tok::Undirected
        } else if is_id_char(c) || c == '-' {
            let mut s = String::new();
            while i < chars.len() {
                let ch = chars[i];
                let after = chars.get(i + 1).copied();
                let dash_ok = ch == '-' && after != Some('>') && after != Some('-');
                if !(is_id_char(ch) || dash_ok) {
                    break;
                }
                s.push(ch);
                advance(&mut i, &mut line, &mut col, &chars);
            }
            Tok::Id(s)
        } else {
            advance(&mut i, &mut line, &mut col, &chars);
            match c {
                '{' => Tok::LBrace,
                '}' => Tok::RBrace,
                '[' => Tok::LBracket,
                ']' => Tok::RBracket,
                '=' => Tok::Eq,
                ';' => Tok::Semi,
                ',' => Tok::Comma,
                other => Tok::Other(other),
            }
        };
        out.push(Token {
            tok,
            line: tl,
            column: tc,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
        column: col,
    });
    Ok(out)
}

/// Attributes a node statement or `node [...]` default can set.
#[derive(Clone, Copy, Debug, Default)]
struct NodeAttrs {
    weight: Option<f64>,
    tier: Option<u8>,
    cells: Option<u32>,
}

/// Attributes an edge statement or `edge [...]` default can set.
#[derive(Clone, Copy, Debug, Default)]
struct EdgeAttrs {
    kind: Option<EdgeKind>,
    fallback: Option<bool>,
}

struct Parser<'a> {
    path: &'a str,
    toks: Vec<Token>,
    pos: usize,
    raw: RawGraph,
    ids: BTreeMap<String, u32>,
    /// Where each node was first mentioned, and whether a node statement declared it.
    first_use: Vec<(usize, usize)>,
    declared: Vec<bool>,
    weights: Vec<Option<f64>>,
    edges_seen: BTreeMap<(u32, u32), usize>,
    node_defaults: NodeAttrs,
    edge_defaults: EdgeAttrs,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn error(&self, at: &Token, message: String) -> TopologyError {
        TopologyError {
            file: self.path.to_string(),
            line: at.line,
            column: at.column,
            message,
        }
    }

    fn unexpected(&self, at: &Token, expected: &str) -> TopologyError {
        self.error(
            at,
            format!("unexpected {}; expected {expected}", describe(&at.tok)),
        )
    }

    fn expect(&mut self, tok: Tok, expected: &str) -> Result<Token, TopologyError> {
        let t = self.bump();
        if t.tok == tok {
            Ok(t)
        } else {
            Err(self.unexpected(&t, expected))
        }
    }

    fn id(&mut self, expected: &str) -> Result<(String, Token), TopologyError> {
        let t = self.bump();
        match &t.tok {
            Tok::Id(s) => Ok((s.clone(), t.clone())),
            _ => Err(self.unexpected(&t, expected)),
        }
    }

    fn node(&mut self, name: &str, at: &Token) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.raw.add(name.to_string());
        self.ids.insert(name.to_string(), id);
        self.first_use.push((at.line, at.column));
        self.declared.push(false);
        let d = self.node_defaults;
        self.weights.push(d.weight);
        self.raw.tier[id as usize] = d.tier;
        self.raw.cells[id as usize] = d.cells;
        id
    }

    /// Parses zero or more `[k=v, ...]` lists into (key, key token, value, value token).
    fn attr_lists(&mut self) -> Result<Vec<(String, Token, String, Token)>, TopologyError> {
        let mut out = Vec::new();
        while self.peek().tok == Tok::LBracket {
            self.bump();
            loop {
                if self.peek().tok == Tok::RBracket {
                    self.bump();
                    break;
                }
                let (key, kt) = self.id("an attribute name or `]`")?;
                self.expect(Tok::Eq, "`=` after the attribute name")?;
                let (value, vt) = self.id("an attribute value")?;
                out.push((key, kt, value, vt));
                if matches!(self.peek().tok, Tok::Comma | Tok::Semi) {
                    self.bump();
                }
            }
        }
        Ok(out)
    }

    fn node_attrs(
        &self,
        attrs: &[(String, Token, String, Token)],
        into: &mut NodeAttrs,
    ) -> Result<(), TopologyError> {
        for (key, _, value, vt) in attrs {
            match key.as_str() {
                "weight" => match value.parse::<f64>() {
                    Ok(w) if w.is_finite() && w >= 0.0 => into.weight = Some(w),
                    Ok(w) if w < 0.0 => {
                        return Err(self.error(
                            vt,
                            format!("negative weight {value}; expected a number ≥ 0"),
                        ));
                    }
                    _ => {
                        return Err(self.error(
                            vt,
                            format!("weight `{value}` is not a number; expected a number ≥ 0"),
                        ));
                    }
                },
                "tier" => match value.parse::<u8>() {
                    Ok(t) => into.tier = Some(t),
                    Err(_) => {
                        return Err(self.error(
                            vt,
                            format!("tier `{value}` is not valid; expected an integer 0 to 255"),
                        ));
                    }
                },
                "cells" => match value.parse::<u32>() {
                    Ok(c) if c >= 1 => into.cells = Some(c),
                    _ => {
                        return Err(self.error(
                            vt,
                            format!("cells `{value}` is not valid; expected an integer ≥ 1"),
                        ));
                    }
                },
                _ => {} // presentation attributes (label, shape, ...) are ignored
            }
        }
        Ok(())
    }

    fn edge_attrs(
        &self,
        attrs: &[(String, Token, String, Token)],
        into: &mut EdgeAttrs,
    ) -> Result<(), TopologyError> {
        for (key, _, value, vt) in attrs {
            match key.as_str() {
                "kind" => {
                    into.kind = Some(match value.to_ascii_lowercase().as_str() {
                        "hard" => EdgeKind::Hard,
                        "soft" => EdgeKind::Soft,
                        _ => {
                            return Err(self.error(
                                vt,
                                format!("unknown edge kind `{value}`; expected hard or soft"),
                            ));
                        }
                    });
                }
                "fallback" => {
                    into.fallback = Some(match value.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(self.error(
                                vt,
                                format!("fallback `{value}` is not valid; expected true or false"),
                            ));
                        }
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn statement(&mut self) -> Result<(), TopologyError> {
        let t = self.peek().clone();
        let (name, nt) = match &t.tok {
            Tok::Id(s) => (s.clone(), t.clone()),
            Tok::LBrace => {
                return Err(self.error(
                    &t,
                    "subgraphs are not supported; expected a node or edge statement".to_string(),
                ));
            }
            _ => return Err(self.unexpected(&t, "a node id, an edge or `}`")),
        };
        self.bump();
        let keyword = name.to_ascii_lowercase();
        if self.peek().tok == Tok::LBracket && matches!(keyword.as_str(), "node" | "edge" | "graph")
        {
            let attrs = self.attr_lists()?;
            match keyword.as_str() {
                "node" => {
                    let mut d = self.node_defaults;
                    self.node_attrs(&attrs, &mut d)?;
                    self.node_defaults = d;
                }
                "edge" => {
                    let mut d = self.edge_defaults;
                    self.edge_attrs(&attrs, &mut d)?;
                    self.edge_defaults = d;
                }
                _ => {}
            }
            return Ok(());
        }
        if keyword == "subgraph" {
            return Err(self.error(
                &nt,
                "subgraphs are not supported; expected a node or edge statement".to_string(),
            ));
        }
        match self.peek().tok.clone() {
            Tok::Eq => {
                // A graph attribute such as `rankdir = LR`.
                self.bump();
                self.id("a value after `=`")?;
                Ok(())
            }
            Tok::Arrow => self.edge_chain(name, nt),
            Tok::Undirected => {
                let at = self.peek().clone();
                Err(self.error(
                    &at,
                    "undirected edge `--` in a digraph; expected `->`".to_string(),
                ))
            }
            Tok::Other(':') => {
                let at = self.peek().clone();
                Err(self.error(
                    &at,
                    "ports are not supported; expected `->`, `[` or `;`".to_string(),
                ))
            }
            _ => {
                let attrs = self.attr_lists()?;
                let id = self.node(&name, &nt);
                self.declared[id as usize] = true;
                let mut a = NodeAttrs {
                    weight: self.weights[id as usize],
                    tier: self.raw.tier[id as usize],
                    cells: self.raw.cells[id as usize],
                };
                self.node_attrs(&attrs, &mut a)?;
                self.weights[id as usize] = a.weight;
                self.raw.tier[id as usize] = a.tier;
                self.raw.cells[id as usize] = a.cells;
                Ok(())
            }
        }
    }

    fn edge_chain(&mut self, first: String, first_tok: Token) -> Result<(), TopologyError> {
        let mut chain = vec![(first, first_tok)];
        while self.peek().tok == Tok::Arrow {
            self.bump();
            chain.push(self.id("a node id after `->`")?);
        }
        let attrs = self.attr_lists()?;
        let mut a = self.edge_defaults;
        self.edge_attrs(&attrs, &mut a)?;
        for pair in chain.windows(2) {
            let ((from_name, ft), (to_name, tt)) = (&pair[0], &pair[1]);
            if from_name == to_name {
                return Err(self.error(
                    tt,
                    format!("service `{from_name}` depends on itself; self-loops are not allowed"),
                ));
            }
            let from = self.node(from_name, ft);
            let to = self.node(to_name, tt);
            if let Some(first) = self.edges_seen.insert((from, to), tt.line) {
                return Err(self.error(
                    tt,
                    format!("duplicate edge {from_name} -> {to_name} (first on line {first})"),
                ));
            }
            self.raw.edges.push(RawEdge {
                from,
                to,
                kind: Some(a.kind.unwrap_or(EdgeKind::Hard)),
                fallback: a.fallback,
            });
        }
        Ok(())
    }

    fn graph(&mut self) -> Result<(), TopologyError> {
        let (mut word, mut wt) = self.id("`digraph`")?;
        if word.eq_ignore_ascii_case("strict") {
            (word, wt) = self.id("`digraph`")?;
        }
        if word.eq_ignore_ascii_case("graph") {
            return Err(self.error(
                &wt,
                "undirected graphs are not supported; expected `digraph`".to_string(),
            ));
        }
        if !word.eq_ignore_ascii_case("digraph") {
            // Not quoted: a file that does not start like DOT may be any file at all.
            return Err(self.error(
                &wt,
                "this does not look like a DOT file: it does not start with `digraph`".to_string(),
            ));
        }
        if matches!(self.peek().tok, Tok::Id(_)) {
            self.bump(); // the graph's name
        }
        self.expect(Tok::LBrace, "`{` to open the graph body")?;
        loop {
            if self.peek().tok == Tok::RBrace {
                break;
            }
            self.statement()?;
            if self.peek().tok == Tok::Semi {
                self.bump();
            }
        }
        let close = self.bump();
        let end = self.bump();
        if end.tok != Tok::Eof {
            return Err(self.unexpected(&end, "end of file after the closing `}`"));
        }
        if self.raw.names.is_empty() {
            return Err(self.error(
                &close,
                "the graph declares no services; expected at least one node or edge".to_string(),
            ));
        }
        Ok(())
    }
}

/// Parses the DOT subset described in the module docs.
pub(super) fn parse(path: &str, text: &str) -> Result<RawGraph, TopologyError> {
    let toks = lex(path, text)?;
    let mut p = Parser {
        path,
        toks,
        pos: 0,
        raw: RawGraph::default(),
        ids: BTreeMap::new(),
        first_use: Vec::new(),
        declared: Vec::new(),
        weights: Vec::new(),
        edges_seen: BTreeMap::new(),
        node_defaults: NodeAttrs::default(),
        edge_defaults: EdgeAttrs::default(),
    };
    p.graph()?;
    if p.declared.iter().any(|&d| d)
        && let Some(i) = p.declared.iter().position(|&d| !d)
    {
        let (line, column) = p.first_use[i];
        return Err(TopologyError {
            file: path.to_string(),
            line,
            column,
            message: format!(
                "unknown service `{}`: this file declares its services, and this one is not \
                 declared; expected a node statement such as `\"{}\";`",
                p.raw.names[i], p.raw.names[i]
            ),
        });
    }

    let mut raw = p.raw;
    if p.weights.iter().any(Option::is_some) {
        raw.explicit_weight = Some(p.weights.iter().map(|w| w.unwrap_or(0.0)).collect());
    } else {
        raw.base_weight.fill(1.0);
    }
    Ok(raw)
}
