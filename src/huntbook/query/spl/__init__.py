"""SPL front end: tokens, lexer, parser (``COMMAND_PARSERS``), AST, compiler (``COMMANDS``)."""
