"""Assurance: frameworks as versioned data (:mod:`.frameworks`), each trust's status per
requirement with owner, due date, sign-off and history (:mod:`.tracker`), and the RAG rules (:mod:`.rag`)."""
