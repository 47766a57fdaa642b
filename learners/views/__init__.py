"""The learners app's pages: the Learners section (roster), CSV imports and their
progress (imports), the Expired Licences tab with Import Allocation (expired), and
the learner portal (portal). Views check and bound the input, call one service, and
render."""
