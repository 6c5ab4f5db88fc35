"""The trainer studio's services: edit, check, publish, review and export course documents.

Rules (domain code only; no Flask):

- Every document (a lesson, module.md, the glossary, a question bank, a case file) is
  file text kept in ``ContentRevision.body``. Its revisions form one line: the editor
  always starts from the newest revision (draft, pending or published), and a save is
  refused when another revision was added after the one the trainer started from.
- Each save adds a revision. A revision newer than the published one is the document's
  current draft (status ``draft``, ``pending`` while waiting for review, ``returned``
  when a reviewer sent it back); an older one was overtaken by a publish.
- Publishing adds a published revision (``content.store.add_revision``), which every
  worker sees on its next request. For modules listed in settings.yaml
  ``studio.review_required`` the change waits as ``pending`` until another trainer
  approves it; the author cannot approve their own change.
- Text is checked like ``courseware validate`` before it is saved: a catalogue built from
  the published files with this document replaced must report nothing for it and nothing
  new elsewhere; slugs never change once published; questions are retired, not removed.
"""
