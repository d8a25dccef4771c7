-- Key-value store behind storage.persistence.SQLitePersistence (python-telegram-bot's
-- user_data, chat_data, bot_data, callback_data and conversation states). Values are JSON.
--   kind = 'user_data'            key = user id        value = JSON object
--   kind = 'chat_data'            key = chat id        value = JSON object
--   kind = 'bot_data'             key = ''             value = JSON object
--   kind = 'callback_data'        key = ''             value = JSON [[keyboards...], {queries}]
--   kind = 'conversation:<name>'  key = JSON key list  value = JSON state (int or string)
CREATE TABLE ptb_persistence (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
