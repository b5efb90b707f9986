//! The command line: one file per subcommand. Only this layer prints or exits.
