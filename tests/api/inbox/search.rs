//! Search: by a contact's name or number, and by message text; never across tenants.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;

/// The conversation ids a search page shows in a section (`search-contacts`, `search-messages`).
fn section(body: &str, testid: &str) -> Vec<String> {
    let Some(start) = body.find(&format!(r#"data-testid="{testid}""#)) else {
        return Vec::new();
    };
    let section = &body[start..];
    listed(&section[..section.find("</ol>").unwrap_or(section.len())])
}

/// The customer of `conversation` wrote "parcel n" for each n of `from..=to`, in that order.
async fn parcels(app: &TestApp, conversation: ConversationId, from: i32, to: i32) {
    sqlx::query(
        "insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid,
                               type, body, content, status)
         select c.tenant_id, c.id, c.phone_number_id, 'inbound', 'wamid.p' || i, 'text',
                'parcel ' || i, jsonb_build_object('type', 'text', 'text',
                jsonb_build_object('body', 'parcel ' || i)), 'received'
         from conversations c, generate_series($2, $3) i where c.id = $1 order by i",
    )
    .bind(conversation.get())
    .bind(from)
    .bind(to)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[sqlx::test]
async fn finds_a_conversation_by_name_number_or_message_text(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.a", "Where is my REFUND for order 1042?", 2)
        .await
        .to_string();
    customer_writes(&app, "wamid.b", "Thanks!", 1).await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;

    // The contact, Dana (+1 555 000 1111), by part of the name in any case, or the number as
    // people write it.
    for typed in ["dan", "DANA", "+1 (555) 000-1111", "0001111"] {
        let page = ana.get(&format!("/inbox?q={}", urlencoding(typed))).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            section(&page.body, "search-contacts"),
            vec![conversation.clone()],
            "{typed}: {}",
            page.body
        );
    }

    // A message, by a word in any case: its row shows that message, not the last one.
    let page = ana.get("/inbox?q=refund").await;
    assert_eq!(
        section(&page.body, "search-messages"),
        vec![conversation.clone()]
    );
    assert!(section(&page.body, "search-contacts").is_empty());
    assert!(page.body.contains("Where is my REFUND for order 1042?"));
    assert!(page.body.contains("Search: refund"), "{}", page.body);

    // The conversation opened from the results keeps them beside it.
    let opened = ana
        .get(&format!("/inbox/conversations/{conversation}?q=refund"))
        .await;
    assert_eq!(
        section(&opened.body, "search-messages"),
        vec![conversation.clone()]
    );

    let none = ana.get("/inbox?q=invoice").await;
    assert!(section(&none.body, "search-messages").is_empty());
    assert!(none.body.contains(r#"data-testid="search-no-messages""#));
}

#[sqlx::test]
async fn too_short_a_search_says_so_and_words_are_found_by_their_beginning(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    customer_writes(&app, "wamid.a", "50% off today, write to ana@shop.test", 2).await;
    customer_writes(&app, "wamid.b", "Anything else", 1).await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;

    for typed in ["ab", "a b", "%%%", "__", "0% o_"] {
        let page = ana.get(&format!("/inbox?q={}", urlencoding(typed))).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains(r#"data-testid="search-too-short""#),
            "{typed}: {}",
            page.body
        );
    }
    // Every word of three characters or more begins a word of the message, in any order; shorter
    // ones are left out; punctuation is no wildcard.
    for typed in ["50% off", "TOD off", "of tod", "ANA", "write ana@shop.test"] {
        let page = ana.get(&format!("/inbox?q={}", urlencoding(typed))).await;
        assert_eq!(
            section(&page.body, "search-messages").len(),
            1,
            "{typed}: {}",
            page.body
        );
    }
    for typed in ["day", "50% offer", "an%ing", "an_thing"] {
        let page = ana.get(&format!("/inbox?q={}", urlencoding(typed))).await;
        assert!(
            section(&page.body, "search-messages").is_empty(),
            "{typed}: {}",
            page.body
        );
    }
}

#[sqlx::test]
async fn deleted_messages_and_other_tenants_are_never_found(pool: PgPool) {
    let app = TestApp::new(pool).await;
    customer_writes(&app, "wamid.secret", "The secret code is swordfish", 1).await;
    customer_writes(&app, "wamid.gone", "Delete this: marlin", 1).await;
    sqlx::query("update messages set deleted_at = now() where wamid = 'wamid.gone'")
        .execute(&app.pool)
        .await
        .unwrap();
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    assert_eq!(
        section(&ana.get("/inbox?q=swordfish").await.body, "search-messages").len(),
        1
    );
    assert!(section(&ana.get("/inbox?q=marlin").await.body, "search-messages").is_empty());

    let (other, _) = app.add_tenant("Globex", "99887766", "globex-secret").await;
    user(&app, other, "eve@globex.test", "Eve").await;
    let mut eve = Client::signed_in(&app, "eve@globex.test").await;
    for typed in ["swordfish", "Dana", "15550001111"] {
        let page = eve.get(&format!("/inbox?q={typed}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(section(&page.body, "search-messages").is_empty(), "{typed}");
        assert!(section(&page.body, "search-contacts").is_empty(), "{typed}");
        assert!(!page.body.contains("The secret code"), "{typed}");
    }
}

/// Search reads its own copy of the text (`message_texts`), kept by triggers on `messages`.
#[sqlx::test]
async fn edited_messages_are_found_by_their_new_text(pool: PgPool) {
    let app = TestApp::new(pool).await;
    customer_writes(&app, "wamid.edited", "Please send a barracuda", 1).await;
    sqlx::query("update messages set body = 'Please send a tarpon' where wamid = 'wamid.edited'")
        .execute(&app.pool)
        .await
        .unwrap();
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    assert_eq!(
        section(&ana.get("/inbox?q=tarpon").await.body, "search-messages").len(),
        1
    );
    assert!(section(&ana.get("/inbox?q=barracuda").await.body, "search-messages").is_empty());
}

#[sqlx::test]
async fn message_results_page_newest_first_without_repeating(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let conversation = customer_writes(&app, "wamid.first", "parcel 0", 3).await;
    // Parcels 1–29, then (ids far apart, as in a busy database) parcels 30–59 and 60–69: the
    // newest are read in order, the older ones (few) through the index at once.
    parcels(&app, conversation, 1, 29).await;
    sqlx::query("select setval('messages_id_seq', 100000)")
        .execute(&app.pool)
        .await
        .unwrap();
    parcels(&app, conversation, 30, 59).await;
    sqlx::query("select setval('messages_id_seq', 1200000)")
        .execute(&app.pool)
        .await
        .unwrap();
    parcels(&app, conversation, 60, 69).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;

    let first = ana.get("/inbox?q=parcel").await;
    assert_eq!(section(&first.body, "search-messages").len(), 50);
    for n in [69, 60, 59, 30, 29, 20] {
        assert!(first.body.contains(&format!("parcel {n}<")), "{n}");
    }
    assert!(!first.body.contains("parcel 19<"), "{}", first.body);
    let next = next_page(&first.body);
    let second = ana.get(&next).await;
    assert_eq!(section(&second.body, "search-messages").len(), 20);
    for n in 0..=19 {
        assert!(second.body.contains(&format!("parcel {n}<")), "{n}");
    }
    assert!(!second.body.contains(r#"<a class="more""#));
}

/// A word too rare of late for the first walk, with more older matches than are collected at
/// once, is found span by span through the index.
#[sqlx::test]
async fn a_word_with_many_older_matches_is_paged_span_by_span(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let conversation = customer_writes(&app, "wamid.first", "hello", 3).await;
    parcels(&app, conversation, 1, 1100).await;
    sqlx::query("select setval('messages_id_seq', 1200000)")
        .execute(&app.pool)
        .await
        .unwrap();
    customer_writes(&app, "wamid.last", "hello again", 2).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;

    let first = ana.get("/inbox?q=parcel").await;
    assert_eq!(section(&first.body, "search-messages").len(), 50);
    for n in [1100, 1075, 1051] {
        assert!(first.body.contains(&format!("parcel {n}<")), "{n}");
    }
    assert!(!first.body.contains("parcel 1050<"), "{}", first.body);
    let second = ana.get(&next_page(&first.body)).await;
    assert_eq!(section(&second.body, "search-messages").len(), 50);
    for n in [1050, 1001] {
        assert!(second.body.contains(&format!("parcel {n}<")), "{n}");
    }
    assert!(!second.body.contains("parcel 1051<") && !second.body.contains("parcel 1000<"));
}

#[sqlx::test]
async fn a_common_word_is_paged_in_order_past_the_first_walk(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let conversation = customer_writes(&app, "wamid.first", "hello", 3).await;
    // 4,000 messages, one in 50 a parcel: 40 in the newest 2,000, so the search reads on in
    // order for the rest of its page.
    sqlx::query(
        "insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid,
                               type, body, content, status)
         select c.tenant_id, c.id, c.phone_number_id, 'inbound', 'wamid.c' || i, 'text', b.body,
                jsonb_build_object('type', 'text', 'text', jsonb_build_object('body', b.body)),
                'received'
         from conversations c, generate_series(1, 4000) i,
              lateral (select case when i % 50 = 0 then 'parcel ' || i / 50
                                   else 'nothing here ' || i end as body) b
         where c.id = $1 order by i",
    )
    .bind(conversation.get())
    .execute(&app.pool)
    .await
    .unwrap();
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;

    // Found by the first walk's matches, then (once ANALYZE has measured how common the word
    // is) by walking in order from the start: the same pages either way.
    for analyzed in [false, true] {
        if analyzed {
            sqlx::query("analyze message_texts")
                .execute(&app.pool)
                .await
                .unwrap();
            let share: f32 = sqlx::query_scalar(
                "select s.share from pg_stats p,
                        unnest(p.most_common_elems::text::text[], p.most_common_elem_freqs)
                            as s (word, share)
                 where p.tablename = 'message_texts' and p.attname = 'words'
                   and s.word = 'parcel'",
            )
            .fetch_one(&app.pool)
            .await
            .unwrap();
            assert!((0.015..0.025).contains(&share), "one in 50: {share}");
        }
        let first = ana.get("/inbox?q=parcel").await;
        assert_eq!(section(&first.body, "search-messages").len(), 50);
        assert!(first.body.contains("parcel 80<") && first.body.contains("parcel 31<"));
        assert!(!first.body.contains("parcel 30<"));
        let second = ana.get(&next_page(&first.body)).await;
        assert_eq!(section(&second.body, "search-messages").len(), 30);
        for n in 1..=30 {
            assert!(second.body.contains(&format!("parcel {n}<")), "{n}");
        }
    }
}

/// A name is looked for among the most recently active conversations first, then through the
/// index: a customer quiet for a long time is found too, after the recent ones.
#[sqlx::test]
async fn a_contact_behind_many_newer_conversations_is_found(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let old = customer_writes(&app, "wamid.old", "Hello", 500).await;
    sqlx::query("update contacts set profile_name = 'Zoe Quinn'")
        .execute(&app.pool)
        .await
        .unwrap();
    // 1,500 newer conversations, the newest of them with another Zoe.
    sqlx::query(
        "with people as (
             insert into contacts (tenant_id, wa_id, profile_name)
             select $1, '4470000' || i, case when i = 1500 then 'Zoe Adams' else 'Sam ' || i end
             from generate_series(1, 1500) i
             returning id, wa_id
         )
         insert into conversations (tenant_id, phone_number_id, contact_id, last_message_at)
         select $1, n.id, p.id, now() - make_interval(mins => 2000 - right(p.wa_id, 4)::int)
         from people p, phone_numbers n where n.tenant_id = $1",
    )
    .bind(app.tenant_id.get())
    .execute(&app.pool)
    .await
    .unwrap();
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    let page = ana.get("/inbox?q=zoe").await;
    let found = section(&page.body, "search-contacts");
    assert_eq!(found.len(), 2, "{}", page.body);
    assert_eq!(found[1], old.to_string(), "the quiet one last");
    let page = ana.get("/inbox?q=quinn").await;
    assert_eq!(
        section(&page.body, "search-contacts"),
        vec![old.to_string()]
    );
}

/// A full name is found as it is written (by the beginning of the name) and by its words in any
/// order, most recently active first.
#[sqlx::test]
async fn a_full_name_is_found_as_written_and_in_any_order(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let named: Vec<String> = sqlx::query_scalar(
        "with people as (
             insert into contacts (tenant_id, wa_id, profile_name)
             select $1, '447000000' || i, name
             from unnest(array['Nadia Sato', 'Sato Nadia', 'Nadia Samuels', 'Nadia Sato'])
                  with ordinality as n(name, i)
             returning id, wa_id
         )
         insert into conversations (tenant_id, phone_number_id, contact_id, last_message_at)
         select $1, n.id, p.id, now() - make_interval(mins => right(p.wa_id, 1)::int)
         from people p, phone_numbers n where n.tenant_id = $1
         order by p.wa_id
         returning id::text",
    )
    .bind(app.tenant_id.get())
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let [first, swapped, samuels, fourth] = <[String; 4]>::try_from(named).unwrap();
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    for (typed, expected) in [
        ("Nadia Sato", vec![&first, &swapped, &fourth]),
        ("  nadia   SATO ", vec![&first, &swapped, &fourth]),
        ("sato nadia", vec![&first, &swapped, &fourth]),
        ("Nadia_Sato", vec![&first, &swapped, &fourth]),
        ("Nadia Sam", vec![&samuels]),
        ("Nadia S%", vec![&first, &swapped, &samuels, &fourth]),
    ] {
        let page = ana.get(&format!("/inbox?q={}", urlencoding(typed))).await;
        assert_eq!(
            section(&page.body, "search-contacts")
                .iter()
                .collect::<Vec<_>>(),
            expected,
            "{typed}: {}",
            page.body
        );
    }
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
