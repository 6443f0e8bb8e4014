//! HTTP routes, one file per Rocket.Chat namespace; the request pipelines they share are
//! extractors (`pipeline.rs`).

pub mod account;
pub mod agent;
pub mod control;
pub mod docs;
pub mod info;
pub mod livechat;
pub mod omnichannel;
pub mod users;

pub(crate) mod body;
pub(crate) mod pipeline;
pub(crate) mod query;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::ser::{Serialize, SerializeMap};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::startup::AppState;

/// Every Rocket.Chat route the mock serves. The server and the OpenAPI document are both
/// built from this one list, so a route cannot be served without being documented (nor
/// documented without being served).
pub(crate) fn rocket_chat(routes: &mut ServiceConfig<'_>) {
    routes
        .service(account::login)
        .service(account::logout)
        .service(account::logout_get)
        .service(account::me)
        .service(omnichannel::contacts_create)
        .service(omnichannel::contacts_update)
        .service(omnichannel::contacts_get)
        .service(omnichannel::contacts_search)
        .service(omnichannel::contacts_check_existence)
        .service(omnichannel::contacts_conflicts)
        .service(omnichannel::contacts_delete)
        .service(livechat::register_visitor)
        .service(livechat::get_visitor)
        .service(livechat::delete_visitor)
        .service(livechat::set_custom_field)
        .service(livechat::set_custom_fields)
        .service(livechat::open_room)
        .service(livechat::close_room)
        .service(livechat::send_message)
        .service(livechat::message_history)
        .service(livechat::visitor_status)
        .service(livechat::get_message)
        .service(livechat::edit_message)
        .service(livechat::delete_message)
        .service(livechat::visitor_rooms)
        .service(agent::custom_fields)
        .service(agent::custom_field)
        .service(agent::room_messages)
        .service(omnichannel::contacts_history)
        .service(omnichannel::contacts_channels)
        .service(omnichannel::contacts_block)
        .service(omnichannel::contacts_unblock)
        .service(agent::omnichannel_users)
        .service(users::users_info)
        .service(info::info);
}

/// `{...payload, "success": true}`: every successful legacy route answers so.
pub(crate) fn success(key: &'static str, payload: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().json(Success { key, payload })
}

/// `{"<key>": payload, "success": true}`, serialized straight from the payload.
struct Success<T> {
    key: &'static str,
    payload: T,
}

impl<T: Serialize> Serialize for Success<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(self.key, &self.payload)?;
        map.serialize_entry("success", &true)?;
        map.end()
    }
}

/// Any method and path the mock does not serve: a JSON 404 in Rocket.Chat's `notFound`
/// shape, naming the closest routes served so that a typo in a client's URL is obvious.
pub(crate) async fn not_found(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let message = state
        .catalogue
        .not_found_message(request.method().as_str(), request.path());
    state.respond(Err(ApiError::NotFound(message)))
}
