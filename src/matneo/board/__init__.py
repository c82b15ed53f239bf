"""Monthly board packs: build (:mod:`.pack`), render to HTML and PDF (:mod:`.render`), archive (:mod:`.archive`)."""
