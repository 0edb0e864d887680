-- user_id is users-service's id: no foreign key, each service owns its own database.
CREATE TABLE posts (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    title VARCHAR(1000) NOT NULL,
    content TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Pages are newest first by id; the author filter pages within one author.
CREATE INDEX posts_user_id_id ON posts (user_id, id);
