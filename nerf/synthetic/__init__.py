"""The synthetic corpus: avatar specs, the caption grammar, prompt clauses and the renders the models train on."""
