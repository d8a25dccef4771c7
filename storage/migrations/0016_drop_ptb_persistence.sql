-- PTB's persistence (conversation states, user_data, chat_data) is gone: which flow reads a
-- user's typed input is in flow_owners (0014), browsing state in browse_sessions (0015), and
-- forms keep their drafts. Conversation states stored here by an older version are not carried
-- over: the drafts they pointed at are, and the next press or /command resumes them.
DROP TABLE ptb_persistence;
